"""End to end: `rag serve` as a real process on a free port, documents ingested through the CLI,
questions over HTTP. Runs the shipped default answer model."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from rag.answering.answer import EMPTY_INDEX
from tests.helpers import docgen
from tests.helpers.models import MODELS_DIR
from tests.helpers.servers import RAG

pytestmark = pytest.mark.slow


def rag(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, RAG_MODELS_DIR=str(MODELS_DIR))
    env.pop("RAG_GENERATOR__MODEL", None)
    done = subprocess.run([*RAG, "--data-dir", str(data_dir), *args], capture_output=True, text=True, env=env, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"rag {args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def test_empty_index_gets_a_clear_answer(server):
    client, _, _ = server
    r = client.post("/v1/ask", json={"question": "What is the meal allowance?"})
    assert r.status_code == 200 and r.json()["answer"] == EMPTY_INDEX


def test_ingest_through_cli_then_ask_over_http_cites_the_right_page(server, two_pdfs):
    client, data, _ = server
    done = rag(data, "ingest", *map(str, two_pdfs))
    assert "files: 2 ok, 0 unchanged, 0 failed" in done.stdout
    docs = client.get("/v1/documents").json()
    assert sorted(d["name"] for d in docs) == ["handbook.pdf", "plants.pdf"]

    r = client.post("/v1/ask", json={"question": "What is the daily meal allowance on business trips?", "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "answer",
        "refused",
        "mode",
        "citations",
        "dropped",
        "summary",
        "draft",
        "model",
        "hits",
        "timings_ms",
        "calculations",
        "lookup",
    }
    assert body["refused"] is False and body["mode"] == "generate"
    assert "55" in body["answer"]
    assert body["citations"], body
    assert {(c["doc"], c["page"]) for c in body["citations"]} == {("handbook.pdf", 2)}
    for c in body["citations"]:
        assert f"[{c['n']}]" in body["answer"] and "55 EUR" in c["quote"]
    assert body["model"]["name"] == "qwen2.5-coder-1.5b-instruct-q4_k_m" and len(body["model"]["sha256"]) == 64
    # the default model version: the 1.5B with the packaged adapter (pinned by sha256)
    assert body["model"]["version"] == "qwen2.5-coder-1.5b-grounded-v1" and len(body["model"]["adapter_sha256"]) == 64

    cli = json.loads(rag(data, "ask", "What is the daily meal allowance on business trips?", "-k", "3", "--json").stdout)
    assert set(cli) == set(body) and cli["answer"] == body["answer"]


def test_search_info_health_and_openapi(server, two_pdfs):
    client, data, _ = server
    rag(data, "ingest", *map(str, two_pdfs))  # unchanged files are skipped
    hits = client.post("/v1/search", json={"question": "Fjordvik fourth quarter output", "k": 2}).json()["hits"]
    assert hits[0]["doc"] == "plants.pdf" and hits[0]["page"] == 1 and "455 GWh" in hits[0]["text"]
    info = client.get("/v1/info").json()
    assert info["index"]["vectors"] == info["index"]["chunks"] > 0
    used = {m["name"]: m for m in info["models"] if m["in_use"]}
    assert set(used) == {"all-MiniLM-L6-v2", "qwen2.5-coder-1.5b-instruct-q4_k_m"}
    assert all(m["verified"] and len(m["sha256"]) == 64 for m in used.values())
    assert client.get("/healthz").json()["status"] == "ok"
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/info", "/healthz"} <= set(client.get("/openapi.json").json()["paths"])


@pytest.mark.parametrize("body", [{}, {"question": ""}, {"question": "x", "k": 0}, {"question": "x", "k": "many"}])
def test_malformed_requests_get_422_with_detail(server, body):
    client, _, _ = server
    r = client.post("/v1/ask", json=body)
    assert r.status_code == 422 and "detail" in r.json()


def test_bad_uploads_get_4xx_with_one_line_detail(server, docs):
    client, _, _ = server
    expected = {
        "encrypted": (422, "encrypted PDF"),
        "corrupt": (422, "corrupt or unreadable PDF"),
        "empty": (422, "empty file"),
        "unsupported": (415, "unsupported file type"),
    }
    for kind, (status, words) in expected.items():
        path = docs[kind]
        r = client.post("/v1/parse", files={"file": (path.name, path.read_bytes())})
        assert r.status_code == status, (kind, r.text)
        assert words in r.json()["detail"] and "\n" not in r.json()["detail"]
    ok = client.post("/v1/parse", files={"file": ("t.pdf", docs["table"].read_bytes())})
    assert ok.status_code == 200 and "<th>Site</th>" in ok.text


def sse_events(lines) -> list[tuple[str, dict]]:
    """Parse a server-sent event stream into (event, data) pairs; every event must be well formed."""
    events, event = [], None
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            assert event, "data before event"
            events.append((event, json.loads(line[6:])))
            event = None
        else:  # a blank line ends an event; a line starting with ':' is a comment (keep-alive ping)
            assert line == "" or line.startswith(":"), f"unexpected line {line!r}"
    return events


def test_streamed_answer_is_well_formed_and_ends_with_the_answer(server, two_pdfs):
    client, data, _ = server
    rag(data, "ingest", *map(str, two_pdfs))
    body = {"question": "What is the daily meal allowance on business trips?", "k": 3, "stream": True}
    with client.stream("POST", "/v1/ask", json=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.iter_lines())
    kinds = [e for e, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"token"} and len(kinds) > 2
    final = events[-1][1]
    assert "55" in final["answer"] and final["citations"][0]["page"] == 2
    assert "55" in "".join(d["text"] for e, d in events if e == "token")


def test_extract_mode_over_http(server, two_pdfs):
    client, data, _ = server
    rag(data, "ingest", *map(str, two_pdfs))
    r = client.post("/v1/ask", json={"question": "How much is the daily meal allowance?", "mode": "extract"})
    body = r.json()
    assert r.status_code == 200 and body["mode"] == "extract" and body["model"] is None
    assert body["citations"][0]["quote"] == "The daily meal allowance on business trips is 55 EUR within Europe."


LONG = {
    "question": "Explain in detail, with every number, the daily meal allowance on business trips within Europe "
    "and the core working hours on weekdays.",
    "k": 3,
    "stream": True,
}


def first_token(response) -> None:
    for line in response.iter_lines():
        if line.startswith("event: token"):
            return
    raise AssertionError("no token arrived")


def test_busy_server_answers_503_with_retry_after(server, two_pdfs):
    client, data, _ = server
    rag(data, "ingest", *map(str, two_pdfs))
    with client.stream("POST", "/v1/ask", json=LONG) as running:
        first_token(running)  # the only slot is now generating
        busy = client.post("/v1/ask", json={"question": "What are the core working hours?"})
        assert busy.status_code == 503, busy.text
        assert int(busy.headers["Retry-After"]) >= 1 and "busy" in busy.json()["detail"]


def test_client_disconnect_stops_the_generation_and_frees_the_slot(server, two_pdfs):
    client, data, log = server
    rag(data, "ingest", *map(str, two_pdfs))
    with client.stream("POST", "/v1/ask", json=LONG) as running:
        first_token(running)
    # the client is gone: the server must stop generating and free the slot (not finish the answer)
    deadline = time.time() + 120
    while "generation stopped: the client disconnected" not in log.read_text():
        assert time.time() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)
    while client.get("/v1/info").json()["serving"]["admitted"]:
        assert time.time() < deadline
        time.sleep(0.2)
    r = client.post("/v1/ask", json={"question": "What are the core working hours?", "mode": "extract"})
    assert r.status_code == 200


def test_tags_at_ingest_listed_and_filtered_over_http_and_cli(server, two_pdfs, tmp_path):
    client, data, _ = server
    rag(data, "ingest", *map(str, two_pdfs))  # untagged (skipped when an earlier test ingested them)
    budget = docgen.simple_pdf(
        tmp_path / "budget.pdf",
        [("Travel", ["The finance department's travel budget for business trips is 80,000 EUR in 2024."])],
    )
    done = rag(data, "ingest", str(budget), "--tag", "department=finance", "--tag", "year=2024")
    assert "1 ok" in done.stdout
    docs = {d["name"]: d for d in client.get("/v1/documents").json()}
    assert docs["budget.pdf"]["tags"] == {"department": "finance", "year": "2024"}
    assert docs["handbook.pdf"]["tags"] == {}

    question = "What is the daily meal allowance on business trips?"
    unfiltered = client.post("/v1/search", json={"question": question, "k": 1}).json()["hits"]
    assert unfiltered[0]["doc"] == "handbook.pdf"
    body = {"question": question, "k": 3, "filters": {"tags": {"department": "finance"}}}
    hits = client.post("/v1/search", json=body).json()["hits"]
    assert hits and {h["doc"] for h in hits} == {"budget.pdf"}
    none = client.post("/v1/search", json=dict(body, filters={"tags": {"department": "finance", "year": "2023"}}))
    assert none.status_code == 200 and none.json()["hits"] == []
    assert client.post("/v1/search", json=dict(body, filters={"tags": {"year": 2024}})).status_code == 422
    asked = client.post("/v1/ask", json=body).json()
    assert {h["doc"] for h in asked["hits"]} == {"budget.pdf"}
    assert all(c["doc"] == "budget.pdf" for c in asked["citations"])

    cli = json.loads(rag(data, "search", question, "-k", "3", "--tag", "year=2024", "--json").stdout)
    assert {h["doc"] for h in cli["hits"]} == {"budget.pdf"}
    assert "KEY=VALUE" in rag(data, "search", question, "--tag", "year", check=False).stderr

    again = rag(data, "ingest", str(budget), "--tag", "department=hr")  # unchanged file, new tags
    assert "1 unchanged" in again.stdout
    docs = {d["name"]: d for d in client.get("/v1/documents").json()}
    assert docs["budget.pdf"]["tags"] == {"department": "hr"}
    assert client.post("/v1/search", json=body).json()["hits"] == []
