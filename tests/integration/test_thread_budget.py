"""A process given a thread budget keeps to it with the real models: the embedder's and the OCR, layout and table
models' ONNX Runtime sessions are sized to it, and no library starts a pool of its own beyond it."""

import json
import os
import subprocess
import sys

import pytest

from rag.core.threads import THREAD_ENV
from tests.helpers.models import MODELS_DIR, ROOT

pytestmark = pytest.mark.slow

SCRIPT = """
import json, os, sys
from pathlib import Path
from rag.core.threads import limit_threads, with_threads
budget = int(sys.argv[1])
if budget:
    limit_threads(budget)
from PIL import Image
from ingest.pipeline import Ingestor
from rag.service.services import Services
from rag.core.settings import Settings
from tests.helpers import docgen

settings = Settings(data_dir=sys.argv[2], models_dir=sys.argv[3])
services = Services(with_threads(settings, budget) if budget else settings)
image = docgen.page_image(Path(sys.argv[2]) / "page.png", ["INVOICE 2291", "Total due: 4,310 EUR"])
ingestor = Ingestor(services, processes=1)
words = ingestor.ocr.read(Image.open(image).convert("RGB")).words
services.embedder.embed([w.text for w in words])
layout, table = ingestor.ocr._models()
engine = ingestor.ocr.ocr.warm_up()
sessions = {"embedder": services.embedder.warm_up().session, "layout": layout.session.session,
            "table": table.table_structure.session.session, "ocr-det": engine.text_det.session.session}
print(json.dumps({"words": [w.text for w in words], "os_threads": len(os.listdir("/proc/self/task")),
                  "sessions": {k: s.get_session_options().intra_op_num_threads for k, s in sessions.items()}}))
"""


def run(budget: int, tmp_path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in THREAD_ENV:
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(budget), str(tmp_path), str(MODELS_DIR)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc (Linux)")
def test_one_thread_budget_sizes_every_session_and_starts_no_pools(tmp_path):
    limited = run(1, tmp_path)
    assert limited["words"][:2] == ["INVOICE 2291", "Total due: 4,310 EUR"]
    assert set(limited["sessions"].values()) == {1}, limited
    # the main thread, one of ONNX Runtime's and one of the tokenizers' (a pool of one, waiting while main waits)
    assert limited["os_threads"] <= 3, limited
    free = run(0, tmp_path)
    assert free["words"] == limited["words"]
    if (os.cpu_count() or 1) > 1:
        assert free["os_threads"] > limited["os_threads"], (free, limited)
