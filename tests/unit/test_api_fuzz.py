"""Fuzz the REST API from its own OpenAPI schema (schemathesis, a bounded number of examples per operation):
whatever the input, never a 500. Runs on an app with a fake embedder and generator, keys required."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from rag.access import KeyRing  # noqa: E402
from tests.apptools import make_app, put  # noqa: E402

EXAMPLES = int(os.environ.get("RAG_FUZZ_EXAMPLES", "30"))
_data = Path(tempfile.mkdtemp(prefix="rag-fuzz-"))
atexit.register(shutil.rmtree, _data, ignore_errors=True)
_root = _data / "docs"
_root.mkdir()
app, services = make_app(_data / "data", host="0.0.0.0", auth={"rate_per_min": 0},
                         ingest={"allowed_roots": [str(_root)]})
put(services, "default", "handbook.pdf", ["Annual leave is 30 days for every employee.", "Lunch is at noon."])
KEY = KeyRing(services.kb.store).create(["default", "hr"], "write")[0]
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_the_api_fail_with_500(case):
    response = case.call(headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])
