"""`rag index rebuild` end to end, as an operator runs it after changing the embedder: real CLI processes, the real
packaged embedder; a new index version is published and searched."""

import json
import os
import subprocess
import sys

from tests.helpers.models import MODELS_DIR


def rag(data, *args, timeout=600) -> subprocess.CompletedProcess:
    env = dict(os.environ, RAG_MODELS_DIR=str(MODELS_DIR))
    return subprocess.run(
        [sys.executable, "-m", "api", "--data-dir", str(data), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def test_index_rebuild_publishes_a_new_version_that_answers_search(tmp_path, docs):
    data = tmp_path / "var"
    rag(data, "ingest", str(docs["facts"]), "--quiet")
    before = json.loads(rag(data, "index", "versions", "--json").stdout)

    out = rag(data, "index", "rebuild").stdout
    assert out.startswith("rebuilt ") and "all-MiniLM-L6-v2" in out

    after = json.loads(rag(data, "index", "versions", "--json").stdout)
    assert len(after) == len(before) + 1 and after[-1]["live"] and not after[-2]["live"]
    assert after[-1]["count"] == before[-1]["count"] > 0
    hits = json.loads(rag(data, "search", "Who inspected the harbour crane?", "--json").stdout)["hits"]
    assert hits and hits[0]["doc"] == "facts.pdf"
