"""The OpenAI-compatible endpoint on an app with a fake embedder and generator: models are the key's collections,
the last user message answered with the earlier turns as its conversation, references in the text and in
`citations`, the streamed chunk format ending with [DONE], and errors."""

import json

import pytest

from api.http.openai_chat import ChatMessage, answer_text, conversation_of
from rag.core.errors import BadInput
from rag.generation.protocol import Generation
from rag.service.access import KeyRing
from tests.helpers.apps import client, make_app, put
from tests.unit.test_conversations_api import SENTENCES, RewritingGenerator


@pytest.fixture()
def keyed(tmp_path):
    app, services = make_app(tmp_path, host="0.0.0.0", auth={"rate_per_min": 10000})
    services._fixed = RewritingGenerator()
    put(services, "plants", "report.pdf", SENTENCES)
    put(services, "finance", "ledger.pdf", ["Secret finance figure 777 in 2019."])
    ring = KeyRing(services.kb.store)
    return app, services, {"plants": ring.create(["plants"])[0], "both": ring.create(["plants", "finance"])[0]}


def chunks(text: str) -> list:
    data = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def test_models_are_the_collections_the_key_may_read(keyed, tmp_path):
    app, _, keys = keyed
    listed = client(app, keys["plants"]).get("/v1/models").json()
    assert listed["object"] == "list" and [m["id"] for m in listed["data"]] == ["plants"]
    assert listed["data"][0]["object"] == "model"
    assert [m["id"] for m in client(app, keys["both"]).get("/v1/models").json()["data"]] == ["finance", "plants"]
    assert client(app, keys["plants"]).get("/v1/models/plants").json()["id"] == "plants"
    assert client(app, keys["plants"]).get("/v1/models/finance").status_code == 403
    open_app, services = make_app(tmp_path / "open")
    put(services, "hr", "a.pdf", ["Leave is 30 days."])
    assert [m["id"] for m in client(open_app).get("/v1/models").json()["data"]] == ["hr"]
    assert client(open_app).get("/v1/models/nope").status_code == 404


def test_a_completion_answers_the_last_user_message_with_numbered_references(keyed):
    app, _, keys = keyed
    r = client(app, keys["plants"]).post(
        "/v1/chat/completions",
        json={
            "model": "plants",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": "What was the plant revenue in 2018?"},
                {"role": "assistant", "content": "It was 410 million EUR [1].\n\nReferences:\n[1] report.pdf, page 1"},
                {"role": "user", "content": [{"type": "text", "text": "and in 2019?"}]},
            ],
            "temperature": 0.2,
            "max_tokens": 100,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "plants" and body["id"].startswith("chatcmpl-")
    content = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop" and body["choices"][0]["message"]["role"] == "assistant"
    assert content.startswith("Plant revenue in 2019 was 455 million EUR [1].")
    assert '\n\nReferences:\n[1] report.pdf, page 1: "Plant revenue in 2019 was 455 million EUR."' in content
    assert body["citations"][0]["doc"] == "report.pdf" and body["citations"][0]["n"] == 1
    assert body["rewritten"] == {"question": "What was the plant revenue in 2019?", "method": "rules", "rule": "period"}
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"] > 0


def test_a_streamed_completion_is_openai_chunks_ending_with_done(keyed):
    app, _, keys = keyed
    body = {
        "model": "plants",
        "messages": [{"role": "user", "content": "What was the plant revenue in 2019?"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = client(app, keys["plants"]).post("/v1/chat/completions", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    got = chunks(r.text)
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == got[0]["id"] for c in got)
    assert got[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in got if c["choices"])
    assert text.startswith("Plant revenue in 2019 was 455 million EUR [1].")
    assert "Checked answer" not in text and "References:\n[1] report.pdf, page 1" in text
    final = [c for c in got if c["choices"] and c["choices"][0]["finish_reason"] == "stop"]
    assert len(final) == 1 and final[0]["citations"][0]["doc"] == "report.pdf"
    assert got[-1]["choices"] == [] and got[-1]["usage"]["completion_tokens"] > 0


def test_a_streamed_draft_that_the_check_changed_is_followed_by_the_checked_answer(keyed):
    app, services, keys = keyed

    class Unsupported(RewritingGenerator):
        def generate(self, messages, max_tokens=256, stop=None, on_token=None):
            text = super().generate(messages, max_tokens, stop, None).text + " The plant also won 7 awards [1]."
            if on_token:
                on_token(text)
            return Generation(text, 30, 10, 0.1, 0.1, 0.2)

    services._fixed = Unsupported()
    body = {"model": "plants", "messages": [{"role": "user", "content": "What was the plant revenue in 2019?"}], "stream": True}
    got = chunks(client(app, keys["plants"]).post("/v1/chat/completions", json=body).text)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in got if c["choices"])
    assert "won 7 awards" in text.split("Checked answer:")[0]
    checked = text.split("\n\nChecked answer: ")[1]
    assert checked.startswith("Plant revenue in 2019 was 455 million EUR [1].") and "awards" not in checked


def test_bad_requests(keyed):
    app, _, keys = keyed
    c = client(app, keys["plants"])
    user = [{"role": "user", "content": "revenue?"}]
    cases = [
        ({"model": "finance", "messages": user}, 403),
        ({"model": "nowhere", "messages": user}, 403),  # as any collection outside the key
        ({"model": "../etc", "messages": user}, 404),
        ({"model": "plants", "messages": []}, 422),
        ({"model": "plants", "messages": [{"role": "assistant", "content": "hi"}]}, 422),
        ({"model": "plants", "messages": [{"role": "user", "content": "  "}]}, 422),
        ({"model": "plants", "messages": [{"role": "wizard", "content": "hi"}]}, 422),
        ({"model": "plants", "messages": [{"role": "user", "content": "x" * 2001}]}, 422),
        ({"messages": user}, 422),
    ]
    for body, status in cases:
        r = c.post("/v1/chat/completions", json=body)
        assert r.status_code == status and r.json()["detail"], (body, r.text)
    assert client(app).post("/v1/chat/completions", json={"model": "plants", "messages": user}).status_code == 401


def test_the_conversation_of_messages():
    said = [
        ChatMessage(role="user", content="What was Apple's revenue in 2018?"),
        ChatMessage(role="assistant", content="It was $265.6 billion [1].\n\nReferences:\n[1] a.pdf, page 3"),
        ChatMessage(role="user", content="and in 2019?"),
        ChatMessage(role="assistant", content="draft\n\nChecked answer: It was $260.2 billion [2].\n\nReferences:\n[2] a.pdf"),
        ChatMessage(role="tool", content="ignored"),
        ChatMessage(role="user", content="what about its margin?"),
    ]
    question, turns = conversation_of(said)
    assert question == "what about its margin?"
    assert [t.question for t in turns] == ["What was Apple's revenue in 2018?", "What was Apple's revenue in 2019?"]
    assert [t.answer for t in turns] == ["It was $265.6 billion [1].", "It was $260.2 billion [2]."]
    assert answer_text("plain") == "plain"
    with pytest.raises(BadInput):
        conversation_of([ChatMessage(role="user", content="q"), ChatMessage(role="assistant", content="a")])
