"""The MCP server's tools through the MCP SDK's client (in process, fake embedder and generator), and
`rag feedback export` read back by the loaders of `rag eval answers` and `rag finetune data --gold`."""

import json

import anyio
import pytest
from mcp import Client
from typer.testing import CliRunner

from api.cli import app
from api.mcp.server import build
from ingest.evaluation.answers import gold_answer, load_questions
from rag.core.errors import BadInput
from rag.finetune.data import load_gold
from rag.store.conversations import FeedbackStore
from tests.helpers.apps import client, make_app, put
from tests.unit.test_conversations_api import SENTENCES, RewritingGenerator


@pytest.fixture()
def services(tmp_path):
    _, services = make_app(tmp_path)
    services._fixed = RewritingGenerator()
    put(services, "plants", "report.pdf", SENTENCES)
    put(services, "finance", "ledger.pdf", ["The plant revenue in 2019 was 500 million EUR in the forecast."])
    return services


def call(server, tool: str, arguments: dict):
    async def go():
        async with Client(server) as c:
            tools = sorted(t.name for t in (await c.list_tools()).tools)
            return tools, await c.call_tool(tool, arguments)

    return anyio.run(go)


def test_mcp_search_and_ask_tools(services):
    tools, found = call(build(services), "search", {"question": "plant revenue 2019", "k": 2})
    assert tools == ["ask", "search"] and not found.is_error
    passages = found.structured_content["passages"]
    assert len(passages) == 2 and passages[0]["n"] == 1 and {"doc", "page", "score", "text"} <= set(passages[0])
    _, asked = call(build(services), "ask", {"question": "What was the plant revenue in 2019?", "collection": "plants", "k": 2})
    out = asked.structured_content
    assert out["answer"].startswith("Plant revenue in 2019 was 455 million EUR [1].") and not out["refused"]
    assert '\n\nReferences:\n[1] report.pdf, page 1: "Plant revenue in 2019' in out["answer"]
    assert out["citations"][0]["doc"] == "report.pdf" and out["model"] == "echo"
    assert "455 million EUR" in asked.content[0].text


def test_mcp_collection_limit_and_bad_arguments_are_tool_errors(services):
    server = build(services, collection="finance")
    _, asked = call(server, "ask", {"question": "What was the plant revenue in 2019?"})
    assert "500" in asked.structured_content["answer"] and "455" not in asked.structured_content["answer"]
    for args, reason in [
        ({"question": "x", "collection": "plants"}, "this server answers from collection 'finance' only"),
        ({"question": ""}, "the question is empty"),
        ({"question": "x", "k": 0}, "k must be between 1 and 50"),
    ]:
        _, bad = call(server, "search", args)
        assert bad.is_error and reason in bad.content[0].text, args
    with pytest.raises(BadInput):
        build(services, collection="../x")


def test_feedback_export_is_a_question_set_for_eval_and_finetuning(tmp_path):
    app, services = make_app(tmp_path / "data")
    services._fixed = RewritingGenerator()
    put(services, "plants", "report.pdf", SENTENCES)
    c = client(app)
    cid = c.post("/v1/conversations", json={"collection": "plants"}).json()["id"]
    c.post(f"/v1/conversations/{cid}/messages", json={"question": "What was the plant revenue in 2018?", "k": 2})
    c.post(f"/v1/conversations/{cid}/messages", json={"question": "and in 2019?", "k": 2})
    c.post(f"/v1/conversations/{cid}/messages", json={"question": "Who sells ice cream on Mars?", "k": 2})
    c.post(f"/v1/conversations/{cid}/messages/1/feedback", json={"rating": "down", "comment": "wrong"})
    c.post(f"/v1/conversations/{cid}/messages/2/feedback", json={"rating": "up"})
    c.post(f"/v1/conversations/{cid}/messages/3/feedback", json={"rating": "up"})
    assert len(FeedbackStore(services.kb.store).list(None)) == 3

    out = tmp_path / "fb.jsonl"
    done = CliRunner().invoke(app_cli(), ["--data-dir", str(tmp_path / "data"), "feedback", "export", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"wrote 3 questions to {out}: 1 gold answers, 1 unanswerable, 1 to check" in done.output
    records = {r["feedback"] + str(r.get("answerable")): r for r in load_questions(out)}
    gold = records["upTrue"]
    assert gold["question"] == "What was the plant revenue in 2019?" and gold["asked"] == "and in 2019?"
    assert gold_answer(gold) == "Plant revenue in 2019 was 455 million EUR." and "[1]" not in gold["answer"]
    assert (gold["doc"], gold["evidence_pages"]) == ("report.pdf", [1])
    assert gold["collection"] == "plants" and gold["model"] == "echo" and gold["index_version"]
    refusal = records["upFalse"]
    assert refusal["answer"] == "" and refusal["question"] == "Who sells ice cream on Mars?"
    check = records["downNone"]
    assert check["check"] is True and "answer" not in check and "410" in check["rejected_answer"]
    assert check["comment"] == "wrong" and gold_answer(check) == ""
    # finetuning takes the gold answer and the unanswerable question, not the one to check
    assert sorted(r["question"] for r in load_gold(out)) == [
        "What was the plant revenue in 2019?",
        "Who sells ice cream on Mars?",
    ]

    only_up = tmp_path / "up.jsonl"
    CliRunner().invoke(
        app_cli(), ["--data-dir", str(tmp_path / "data"), "feedback", "export", "--out", str(only_up), "--rating", "up"]
    )
    assert [json.loads(line)["feedback"] for line in only_up.read_text().splitlines()] == ["up", "up"]
    bad = CliRunner().invoke(
        app_cli(), ["--data-dir", str(tmp_path / "data"), "feedback", "export", "--out", str(out), "--rating", "meh"]
    )
    assert bad.exit_code != 0


def app_cli():
    from api.cli.state import State

    State.services = None  # the command builds its services on the data dir given
    return app
