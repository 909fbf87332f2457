"""`rag index rebuild` end to end, as an operator runs it after changing the embedder: real CLI processes, the real
packaged embedder; a new index version is published and searched."""

import json
import os
import subprocess
import sys

from tests.helpers.models import MODELS_DIR


def rag(data, *args, timeout=600, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, RAG_MODELS_DIR=str(MODELS_DIR), **(env or {}))
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


def test_rebuild_rechunk_chunks_stored_documents_again_without_their_files(tmp_path, docs):
    data, pdf = tmp_path / "var", tmp_path / "facts.pdf"
    pdf.write_bytes(docs["facts"].read_bytes())
    rag(data, "ingest", str(pdf), str(docs["table"]), "--quiet")
    listed = {d["name"]: d for d in json.loads(rag(data, "documents", "list", "--json").stdout)}
    before, table = listed["facts.pdf"], listed["table.pdf"]
    pdf.unlink()  # nothing can be parsed again: the chunks must come from the kept layout HTML
    (data / "html" / f"{table['id']}.html").write_text("<html>damaged</html>")  # this one keeps its chunks

    run = rag(
        data,
        "index",
        "rebuild",
        "--rechunk",
        env={"RAG_CHUNKS__MAX_WORDS": "12", "RAG_CHUNKS__MIN_WORDS": "1", "RAG_CHUNKS__MERGE_BELOW": "0"},
    )
    assert run.stdout.startswith("1 documents re-chunked; rebuilt ") and "re-chunked 2/2 documents" in run.stderr
    assert "kept their chunks (no readable layout HTML): table.pdf" in run.stderr
    listed = {d["name"]: d for d in json.loads(rag(data, "documents", "list", "--json").stdout)}
    after = listed["facts.pdf"]
    assert after["id"] == before["id"] and after["chunks"] > before["chunks"] > 0  # smaller chunks, more of them
    assert after["profile"] == before["profile"] and listed["table.pdf"]["chunks"] == table["chunks"]
    hits = json.loads(rag(data, "search", "Who inspected the harbour crane?", "--json").stdout)["hits"]
    assert hits and hits[0]["doc"] == "facts.pdf" and len(hits[0]["text"].split()) <= 40


def _manual(path, year: int, torque: int):
    from tests.helpers import docgen

    pages = [
        ("Maintenance", [f"Tighten the wheel bolts of the lift to {torque} Nm after every service.", "Check the cables."]),
        ("Inspection", ["The lift is inspected by a certified engineer once a year.", "Keep the log book current."]),
    ]
    return docgen.simple_pdf(path, pages, title="Lift safety manual", running_header=f"Fabrikam Ltd - Safety manual {year}")


def test_profiles_are_shown_overridden_by_tags_recomputed_by_rebuild_and_route_questions(tmp_path):
    data = tmp_path / "var"
    old, new = _manual(tmp_path / "lift-a.pdf", 2019, 90), _manual(tmp_path / "lift-b.pdf", 2021, 120)
    rag(data, "ingest", str(old), str(new), "--quiet")

    shown = json.loads(rag(data, "documents", "show", "lift-b.pdf", "--json").stdout)["profile"]
    assert shown["title"] == "Lift safety manual" and shown["sources"]["title"] == "metadata"
    assert shown["organizations"][0] == "Fabrikam Ltd" and (shown["year"], shown["kind"]) == (2021, "manual")
    text = rag(data, "documents", "show", "lift-b.pdf").stdout
    assert "organizations  Fabrikam Ltd" in text and "period         2021  (running header)" in text

    hits = json.loads(rag(data, "search", "Wheel bolt torque in the Fabrikam 2021 safety manual?", "--json").stdout)["hits"]
    assert hits[0]["doc"] == "lift-b.pdf" and "120 Nm" in hits[0]["text"]
    assert "2021" in hits[0]["route"] and hits[0]["context"] == "Fabrikam Ltd · manual · 2021"

    rag(data, "ingest", str(old), "--tag", "period=2018", "--quiet")  # a profile tag: indexed again with its label
    assert json.loads(rag(data, "documents", "show", "lift-a.pdf", "--json").stdout)["profile"]["period"] == "2018"
    out = rag(data, "index", "rebuild").stdout
    assert "2 document profiles recomputed" in out and "context chunk text" in out
    assert json.loads(rag(data, "documents", "show", "lift-a.pdf", "--json").stdout)["profile"]["sources"]["period"] == "tag"
