"""Conversations and feedback over REST on an app with a fake embedder and generator: follow-ups rewritten before
retrieval (rules, the model), turns stored and streamed, per-key isolation, feedback on turns and answers, limits,
and an old database gaining the tables."""

import json
import sqlite3

import pytest

from rag.conversation.rewrite import REWRITE_SYSTEM
from rag.generation.protocol import Generation
from rag.service.access import KeyRing
from rag.store.conversations import ConversationStore
from rag.store.database import open_database
from rag.store.sql import SqlStore
from tests.helpers.apps import EchoGenerator, client, make_app, put

SENTENCES = [
    "Plant revenue in 2018 was 410 million EUR.",
    "Plant revenue in 2019 was 455 million EUR.",
    "Ingrid Berg has run the Fjordvik plant since 2015.",
]


class RewritingGenerator(EchoGenerator):
    """Answers with the first source's first sentence, citing it, and the rewrite prompt with a fixed standalone
    question (keeping the prompts it was given)."""

    def __init__(self, standalone: str = "Since when has Ingrid Berg run the Fjordvik plant?"):
        self.standalone = standalone
        self.rewrites: list[list[dict]] = []

    def generate(self, messages, max_tokens=256, stop=None, on_token=None) -> Generation:
        if messages[0]["content"] == REWRITE_SYSTEM:
            self.rewrites.append(messages)
            return Generation(self.standalone, 20, 8, 0.1, 0.1, 0.2)
        lines = messages[-1]["content"].splitlines()
        text = "Not found in the documents."
        for i, line in enumerate(lines[:-1]):
            if line.startswith("Source [1]"):
                text = lines[i + 1].split(". ")[0].rstrip(".") + " [1]."
                break
        for piece in text.split(" "):
            if on_token is not None:
                on_token(piece + " ")
        return Generation(text, 30, 10, 0.1, 0.1, 0.2)


def sse(text: str) -> list[tuple[str, dict]]:
    events, event = [], None
    for line in text.splitlines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            events.append((event, json.loads(line[6:])))
    return events


@pytest.fixture()
def keyed(tmp_path):
    app, services = make_app(tmp_path, host="0.0.0.0", auth={"rate_per_min": 10000})
    services._fixed = RewritingGenerator()
    put(services, "plants", "report.pdf", SENTENCES)
    put(services, "finance", "ledger.pdf", ["Secret finance figure 777 in 2019."])
    ring = KeyRing(services.kb.store)
    keys = {"a": ring.create(["plants"])[0], "b": ring.create(["plants"])[0], "fin": ring.create(["finance"])[0]}
    return app, services, keys


def test_a_follow_up_is_rewritten_by_rules_answered_and_stored(keyed):
    app, _, keys = keyed
    a = client(app, keys["a"])
    conv = a.post("/v1/conversations", json={"collection": "plants"})
    assert conv.status_code == 201 and conv.json()["turns"] == 0 and conv.json()["title"] == ""
    cid = conv.json()["id"]
    first = a.post(f"/v1/conversations/{cid}/messages", json={"question": "What was the plant revenue in 2018?", "k": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["n"] == 1 and body["rewritten"] == {
        "question": "What was the plant revenue in 2018?",
        "method": "unchanged",
        "rule": "",
    }
    assert "410" in body["answer"]["answer"] and body["index_version"]
    second = a.post(f"/v1/conversations/{cid}/messages", json={"question": "and in 2019?", "k": 2}).json()
    assert second["n"] == 2 and second["question"] == "and in 2019?"
    assert second["rewritten"] == {"question": "What was the plant revenue in 2019?", "method": "rules", "rule": "period"}
    assert "455" in second["answer"]["answer"]  # retrieval searched the rewritten question

    listed = a.get("/v1/conversations").json()
    assert [(c["id"], c["turns"], c["title"], c["messages"]) for c in listed] == [
        (cid, 2, "What was the plant revenue in 2018?", [])
    ]
    full = a.get(f"/v1/conversations/{cid}").json()
    assert [m["rewritten"]["question"] for m in full["messages"]] == [
        "What was the plant revenue in 2018?",
        "What was the plant revenue in 2019?",
    ]
    assert a.delete(f"/v1/conversations/{cid}").json() == {"deleted": cid}
    assert a.get(f"/v1/conversations/{cid}").status_code == 404
    assert a.get("/v1/conversations").json() == []


def test_the_model_rewrites_what_rules_cannot(keyed):
    app, services, keys = keyed
    a = client(app, keys["a"])
    cid = a.post("/v1/conversations", json={}).json()["id"]
    a.post(f"/v1/conversations/{cid}/messages", json={"question": "Who runs the Fjordvik plant?"})
    turn = a.post(f"/v1/conversations/{cid}/messages", json={"question": "Since when has she run it?"}).json()
    assert turn["rewritten"] == {"question": "Since when has Ingrid Berg run the Fjordvik plant?", "method": "model", "rule": ""}
    prompt = services.generator.rewrites[-1][1]["content"]
    assert "Question: Who runs the Fjordvik plant?" in prompt and "Last question: Since when has she run it?" in prompt
    # extract mode asks no model: the follow-up is searched as written
    turn = a.post(f"/v1/conversations/{cid}/messages", json={"question": "Since when has she run it?", "mode": "extract"}).json()
    assert turn["rewritten"]["method"] == "unresolved" and turn["rewritten"]["question"] == "Since when has she run it?"
    assert len(services.generator.rewrites) == 1


def test_the_model_is_not_asked_when_switched_off(tmp_path):
    app, services = make_app(tmp_path, conversations={"rewrite_model": False})
    services._fixed = RewritingGenerator()
    put(services, "plants", "report.pdf", SENTENCES)
    c = client(app)
    cid = c.post("/v1/conversations", json={}).json()["id"]
    c.post(f"/v1/conversations/{cid}/messages", json={"question": "Who runs the Fjordvik plant?"})
    turn = c.post(f"/v1/conversations/{cid}/messages", json={"question": "Since when has she run it?"}).json()
    assert turn["rewritten"]["method"] == "unresolved" and services.generator.rewrites == []


def test_a_streamed_turn_sends_the_rewritten_question_first_then_tokens_then_the_turn(keyed):
    app, _, keys = keyed
    a = client(app, keys["a"])
    cid = a.post("/v1/conversations", json={"collection": "plants"}).json()["id"]
    a.post(f"/v1/conversations/{cid}/messages", json={"question": "What was the plant revenue in 2018?"})
    r = a.post(f"/v1/conversations/{cid}/messages", json={"question": "And 2019?", "stream": True, "k": 2})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "rewritten" and kinds[-1] == "message" and set(kinds[1:-1]) == {"token"}
    assert events[0][1]["question"] == "What was the plant revenue in 2019?"
    final = events[-1][1]
    assert final["n"] == 2 and "455" in final["answer"]["answer"]
    assert a.get(f"/v1/conversations/{cid}").json()["turns"] == 2


def test_conversations_are_isolated_per_key(keyed):
    app, _, keys = keyed
    a, b = client(app, keys["a"]), client(app, keys["b"])
    cid = a.post("/v1/conversations", json={"collection": "plants"}).json()["id"]
    a.post(f"/v1/conversations/{cid}/messages", json={"question": "What was the plant revenue in 2018?"})
    assert b.get("/v1/conversations").json() == []
    for method, path, body in [
        ("GET", f"/v1/conversations/{cid}", None),
        ("DELETE", f"/v1/conversations/{cid}", None),
        ("POST", f"/v1/conversations/{cid}/messages", {"question": "and in 2019?"}),
        ("POST", f"/v1/conversations/{cid}/messages/1/feedback", {"rating": "down"}),
        ("POST", "/v1/feedback", {"rating": "down", "conversation_id": cid, "message": 1}),
    ]:
        r = b.request(method, path, json=body)
        assert r.status_code == 404 and r.json()["detail"] == f"no conversation {cid}", (method, path, r.text)
    assert a.get(f"/v1/conversations/{cid}").json()["turns"] == 1  # nothing of b's requests reached it
    # a key may not start a conversation over a collection it may not read, nor see its documents through one
    assert b.post("/v1/conversations", json={"collection": "finance"}).status_code == 403
    assert b.post("/v1/conversations", json={"collection": "../x"}).status_code == 422
    fin = client(app, keys["fin"])
    fid = fin.post("/v1/conversations", json={}).json()["id"]
    turn = fin.post(f"/v1/conversations/{fid}/messages", json={"question": "What was the plant revenue in 2019?"}).json()
    assert "455" not in json.dumps(turn) and {h["doc"] for h in turn["answer"]["hits"]} <= {"ledger.pdf"}


def test_feedback_on_a_turn_is_stored_with_what_was_answered_and_replaced_when_given_again(keyed):
    app, _, keys = keyed
    a = client(app, keys["a"])
    cid = a.post("/v1/conversations", json={"collection": "plants"}).json()["id"]
    a.post(f"/v1/conversations/{cid}/messages", json={"question": "What was the plant revenue in 2018?", "k": 2})
    a.post(f"/v1/conversations/{cid}/messages", json={"question": "and in 2019?", "k": 2})
    up = a.post(f"/v1/conversations/{cid}/messages/2/feedback", json={"rating": "up", "comment": " right "})
    assert up.status_code == 200, up.text
    fb = up.json()
    assert (fb["rating"], fb["comment"], fb["conversation_id"], fb["message"]) == ("up", "right", cid, 2)
    assert fb["question"] == "What was the plant revenue in 2019?" and fb["asked"] == "and in 2019?"
    assert "455" in fb["answer"] and fb["citations"][0]["doc"] == "report.pdf" and fb["model"]["name"] == "echo"
    assert fb["index_version"] and fb["collection"] == "plants" and fb["refused"] is False
    down = a.post("/v1/feedback", json={"rating": "down", "conversation_id": cid, "message": 2}).json()
    assert [f["id"] for f in a.get("/v1/feedback").json()] == [down["id"]]  # replaced, not added
    assert client(app, keys["b"]).get("/v1/feedback").json() == []
    assert a.post(f"/v1/conversations/{cid}/messages/9/feedback", json={"rating": "up"}).status_code == 404
    assert a.delete(f"/v1/feedback/{down['id']}").json() == {"deleted": down["id"]}
    assert a.get("/v1/feedback").json() == []
    # feedback stays when its conversation goes (it is evaluation data)
    a.post(f"/v1/conversations/{cid}/messages/1/feedback", json={"rating": "up"})
    a.delete(f"/v1/conversations/{cid}")
    assert [f["message"] for f in a.get("/v1/feedback").json()] == [1]


def test_feedback_on_an_ask_answer(keyed):
    app, _, keys = keyed
    a = client(app, keys["a"])
    answer = a.post("/v1/ask", json={"question": "What was the plant revenue in 2019?", "k": 2}).json()
    r = a.post(
        "/v1/feedback",
        json={"rating": "down", "comment": "wrong year", "question": "What was the plant revenue in 2019?", "answer": answer},
    )
    assert r.status_code == 200, r.text
    fb = r.json()
    assert fb["answer"] == answer["answer"] and fb["conversation_id"] is None and fb["index_version"]
    assert [f["rating"] for f in a.get("/v1/feedback", params={"rating": "down"}).json()] == ["down"]
    assert a.get("/v1/feedback", params={"rating": "up"}).json() == []
    assert (
        a.post("/v1/feedback", json={"rating": "up", "question": "q", "answer": answer, "collection": "finance"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    "body",
    [
        {"rating": "meh", "conversation_id": "x", "message": 1},
        {"rating": "up"},
        {"rating": "up", "conversation_id": "x"},
        {"rating": "up", "question": "q"},
        {"rating": "up", "conversation_id": "x", "message": 1, "question": "q", "answer": {"answer": "a", "citations": []}},
        {"rating": "up", "conversation_id": "x", "message": 1, "comment": "x" * 2001},
    ],
)
def test_bad_feedback_gets_422(keyed, body):
    app, _, keys = keyed
    r = client(app, keys["a"]).post("/v1/feedback", json=body)
    assert r.status_code == 422 and r.json()["detail"]


def test_a_conversation_holds_at_most_max_turns(tmp_path):
    app, services = make_app(tmp_path, conversations={"max_turns": 1})
    put(services, "plants", "report.pdf", SENTENCES)
    c = client(app)
    cid = c.post("/v1/conversations").json()["id"]  # no body: every default
    assert c.post(f"/v1/conversations/{cid}/messages", json={"question": "revenue 2018?"}).status_code == 200
    r = c.post(f"/v1/conversations/{cid}/messages", json={"question": "and 2019?"})
    assert r.status_code == 422 and "start a new one" in r.json()["detail"]
    assert c.get(f"/v1/conversations/{cid}").json()["turns"] == 1


def test_without_keys_conversations_belong_to_no_key_and_a_sent_key_still_separates(tmp_path):
    app, services = make_app(tmp_path)  # loopback: no key needed
    put(services, "plants", "report.pdf", SENTENCES)
    anyone = client(app)
    cid = anyone.post("/v1/conversations", json={}).json()["id"]
    token = KeyRing(services.kb.store).create(["plants"])[0]
    assert client(app, token).get(f"/v1/conversations/{cid}").status_code == 404
    assert [c["id"] for c in anyone.get("/v1/conversations").json()] == [cid]


def test_an_old_database_gains_the_conversation_and_feedback_tables(tmp_path):
    db = sqlite3.connect(tmp_path / "store.sqlite")
    db.executescript(
        "CREATE TABLE documents (id TEXT PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL, "
        "collection TEXT NOT NULL DEFAULT 'default', sha256 TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, "
        "mtime REAL NOT NULL DEFAULT 0, status TEXT NOT NULL, error TEXT, pages INTEGER NOT NULL DEFAULT 0, "
        "ingested_at TEXT);"
        "INSERT INTO documents(id,name,path,sha256,status) VALUES ('d1','a.pdf','/a.pdf','s','ok');"
    )
    db.close()
    store = SqlStore(open_database("", tmp_path))
    conv = ConversationStore(store).create("k1", None, "first")
    assert ConversationStore(store).require("k1", conv.id).title == "first"
    assert store.document("d1") is not None
    tables = {r[0] for r in store.sql.all("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "conversation_messages", "feedback"} <= tables
