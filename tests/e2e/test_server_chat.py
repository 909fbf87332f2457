"""End to end on the running `rag serve` of test_server.py (one server for both files, the two PDFs ingested
once): a conversation whose follow-up is rewritten and streamed, feedback exported as a question set, the
OpenAI-compatible endpoint through the `openai` client with an API key as its bearer token (streamed and not), and
`rag mcp` over stdio through the MCP SDK's client. Default answer model (the 1.5B with its adapter)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from openai import OpenAI

from ingest.evaluation.answers import load_questions
from rag.finetune.data import load_gold
from rag.service.access import KeyRing
from rag.store.database import open_database
from rag.store.sql import SqlStore
from tests.helpers.models import MODELS_DIR
from tests.helpers.servers import RAG

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MEAL = "What is the daily meal allowance on business trips?"
PLANT = "What did the Fjordvik hydro plant produce in the fourth quarter?"


def environ() -> dict:
    env = dict(os.environ, RAG_MODELS_DIR=str(MODELS_DIR))
    env.pop("RAG_GENERATOR__MODEL", None)
    return env


@pytest.fixture(scope="module")
def served(server, two_pdfs):
    """The shared server with the two PDFs ingested (test_server.py ingests them; alone, this file does) and an API
    key of the default collection, made in the server's store as `rag keys create` makes one."""
    client, data, log = server
    if not {"handbook.pdf", "plants.pdf"} <= {d["name"] for d in client.get("/v1/documents").json()}:
        done = subprocess.run(
            [*RAG, "--data-dir", str(data), "ingest", *map(str, two_pdfs)], capture_output=True, text=True, env=environ()
        )
        assert done.returncode == 0, done.stdout + done.stderr
    token = KeyRing(SqlStore(open_database("", data))).create(["default"], "read", "chat e2e")[0]
    return client, data, token


def sse(lines) -> list[tuple[str, dict]]:
    events, event = [], None
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            events.append((event, json.loads(line[6:])))
    return events


def test_a_follow_up_is_rewritten_before_retrieval_streamed_stored_and_rated(served, tmp_path):
    client, data, token = served
    headers = {"Authorization": f"Bearer {token}"}
    cid = client.post("/v1/conversations", json={"collection": "default"}, headers=headers).json()["id"]
    # the first turn in extract mode (no generation: the slow suites' time), the follow-up generated and streamed
    first = client.post(f"/v1/conversations/{cid}/messages", json={"question": MEAL, "k": 3, "mode": "extract"}, headers=headers)
    assert first.status_code == 200, first.text
    assert "55" in first.json()["answer"]["answer"] and first.json()["rewritten"]["method"] == "unchanged"

    body = {"question": "How much is it within Europe?", "k": 3, "stream": True}
    with client.stream("POST", f"/v1/conversations/{cid}/messages", json=body, headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse(r.iter_lines())
    kinds = [e for e, _ in events]
    assert kinds[0] == "rewritten" and kinds[-1] == "message" and "token" in kinds, kinds
    rewritten = events[0][1]
    assert rewritten == {"question": "How much is the daily meal allowance within Europe?", "method": "rules", "rule": "pronoun"}
    turn = events[-1][1]
    assert turn["n"] == 2 and turn["rewritten"] == rewritten and turn["index_version"]
    assert {c["doc"] for c in turn["answer"]["citations"]} <= {"handbook.pdf"}

    stored = client.get(f"/v1/conversations/{cid}", headers=headers).json()
    assert [m["rewritten"]["question"] for m in stored["messages"]] == [MEAL, rewritten["question"]]
    assert client.get(f"/v1/conversations/{cid}").status_code == 404  # without the key: another owner

    up = client.post(f"/v1/conversations/{cid}/messages/1/feedback", json={"rating": "up"}, headers=headers)
    assert up.status_code == 200 and up.json()["question"] == MEAL and up.json()["citations"][0]["page"] == 2
    down = client.post(f"/v1/conversations/{cid}/messages/2/feedback", json={"rating": "down"}, headers=headers)
    assert down.json()["model"]["version"] == "qwen2.5-coder-1.5b-grounded-v1" and down.json()["asked"] == body["question"]
    out = tmp_path / "feedback.jsonl"
    done = subprocess.run(
        [*RAG, "--data-dir", str(data), "feedback", "export", "--out", str(out)], capture_output=True, text=True, env=environ()
    )
    assert done.returncode == 0 and "1 gold answers, 0 unanswerable, 1 to check" in done.stdout, done.stdout + done.stderr
    record, check = load_questions(out)
    assert record["question"] == MEAL and "55" in record["answer"] and record["evidence_pages"] == [2]
    assert record["doc"] == "handbook.pdf" and [g["answer"] for g in load_gold(out)] == [record["answer"]]
    assert check["check"] is True and check["question"] == rewritten["question"] and "answer" not in check


def test_openai_client_non_streamed_and_streamed(served):
    client, _, token = served
    openai = OpenAI(base_url=f"{str(client.base_url).rstrip('/')}/v1", api_key=token, max_retries=0, timeout=300)
    assert [m.id for m in openai.models.list().data] == ["default"]

    # not streamed, in extract mode (an extension: no generation, for the slow suites' time); streamed, generated
    done = openai.chat.completions.create(
        model="default", messages=[{"role": "user", "content": PLANT}], extra_body={"mode": "extract"}
    )
    content = done.choices[0].message.content or ""
    assert "455" in content and "\n\nReferences:\n[1] plants.pdf, page 1" in content, content
    extra = done.model_extra or {}
    assert extra["citations"][0]["doc"] == "plants.pdf" and extra["rewritten"]["question"] == PLANT

    history = [
        {"role": "user", "content": MEAL},
        {"role": "assistant", "content": "The daily meal allowance on business trips is 55 EUR within Europe [1]."},
        {"role": "user", "content": "How much is it within Europe?"},
    ]
    stream = openai.chat.completions.create(model="default", messages=history, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "55" in text and "References:\n[1] handbook.pdf, page 2" in text, text
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert (
        len(final) == 1 and final[0].model_extra["rewritten"]["question"] == "How much is the daily meal allowance within Europe?"
    )
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 2  # streamed as written

    from openai import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        openai.chat.completions.create(model="finance", messages=[{"role": "user", "content": PLANT}])


def test_mcp_server_over_stdio(served):
    _, data, _ = served
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "api", "--data-dir", str(data), "mcp"], env=environ(), cwd=str(ROOT)
    )

    async def session():
        async with Client(params, read_timeout_seconds=300) as c:
            tools = sorted(t.name for t in (await c.list_tools()).tools)
            found = await c.call_tool("search", {"question": "Fjordvik fourth quarter output", "k": 2})
            asked = await c.call_tool("ask", {"question": MEAL, "k": 3, "mode": "extract"})  # no model: suite time
            bad = await c.call_tool("ask", {"question": ""})
            return tools, found, asked, bad

    tools, found, asked, bad = anyio.run(session)
    assert tools == ["ask", "search"]
    top = found.structured_content["passages"][0]
    assert (top["doc"], top["page"]) == ("plants.pdf", 1) and "455 GWh" in top["text"]
    answer = asked.structured_content
    assert not asked.is_error and "55" in answer["answer"] and answer["citations"][0]["page"] == 2
    assert bad.is_error and "the question is empty" in bad.content[0].text
