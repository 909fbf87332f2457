"""The store on both backends (SQLite and PostgreSQL: the `make_store` fixture of tests/conftest.py)."""

from rag.core.types import Chunk, Document


def doc(i: str, path: str = "/x/a.pdf", sha: str = "s1") -> Document:
    return Document(id=i, name="a.pdf", path=path, collection="default", sha256=sha, status="ok", pages=1)


def chunks(doc_id: str, n: int) -> list[Chunk]:
    return [Chunk(id=f"{doc_id}-{k}", doc_id=doc_id, page=1, text=f"text {k}") for k in range(n)]


def test_replacing_a_document_returns_old_and_new_vector_ids(make_store):
    store = make_store()
    old, new = store.replace_document(doc("d1"), 10, 1.0, chunks("d1", 3))
    assert old == [] and len(new) == 3
    old2, new2 = store.replace_document(doc("d2", sha="s2"), 10, 2.0, chunks("d2", 2))
    assert sorted(old2) == sorted(new) and len(new2) == 2
    assert [d.id for d in store.documents()] == ["d2"] and store.documents()[0].chunks == 2
    rows = store.chunks_by_vid(new2)
    assert {r["doc_name"] for r in rows.values()} == {"a.pdf"}


def test_delete_and_collections(make_store):
    store = make_store()
    _, a = store.replace_document(doc("d1"), 1, 1, chunks("d1", 2))
    other = Document(id="d9", name="b.pdf", path="/x/b.pdf", collection="hr", sha256="s", status="ok")
    _, b = store.replace_document(other, 1, 1, chunks("d9", 1))
    assert store.vids_in_collection("hr") == b
    assert sorted(store.delete_document("d1")) == sorted(a)
    assert store.all_vids() == b


def test_replace_chunks_keeps_the_document_and_returns_old_and_new_vector_ids(make_store):
    import pytest

    from rag.core.errors import NotFound

    store = make_store()
    _, first = store.replace_document(doc("d1").model_copy(update={"tags": {"org": "ACME"}}), 1, 0.0, chunks("d1", 2))
    old, new = store.replace_chunks("d1", [c.model_copy(update={"id": c.id + "b"}) for c in chunks("d1", 3)])
    assert old == first and len(new) == 3 and not set(new) & set(first)
    kept = store.document("d1")
    assert kept is not None and kept.chunks == 3 and kept.tags == {"org": "ACME"}
    assert sorted(store.all_vids()) == sorted(new)
    with pytest.raises(NotFound):
        store.replace_chunks("nope", [])


def test_conversations_and_feedback_on_both_backends(make_store):
    from rag.core.types import Answer, Feedback, Rewritten
    from rag.store.conversations import ConversationStore, FeedbackStore

    store = make_store()
    conversations, feedback = ConversationStore(store), FeedbackStore(store)
    conv = conversations.create("k1", "hr")
    asked = Rewritten(question="How many leave days in 2019?", method="rules", rule="period")
    for question in ("How many leave days?", "and in 2019?"):
        conversations.add_message("k1", conv.id, question, asked, Answer(answer="25 days [1]", citations=[]), "v1")
    got = conversations.require("k1", conv.id)
    assert [m.n for m in got.messages] == [1, 2] and got.title == "How many leave days?"
    assert [c.turns for c in conversations.list("k1")] == [2] and conversations.get("k2", conv.id) is None
    rated = Feedback(id="", rating="up", question="q", answer="a", conversation_id=conv.id, message=2, created_at="")
    feedback.add("k1", rated)
    feedback.add("k1", rated.model_copy(update={"rating": "down"}))  # a turn's feedback is replaced
    assert [f.rating for f in feedback.list("k1")] == ["down"] and feedback.list("k2") == []
    on_ask = Feedback(id="", rating="up", question="first", answer="a", created_at="")
    feedback.add("k1", on_ask)
    feedback.add("k1", on_ask.model_copy(update={"question": "second"}))  # the same second: newest first all the same
    assert [f.question for f in feedback.list("k1")][:2] == ["second", "first"]
    assert conversations.delete("k1", conv.id) and not conversations.delete("k1", conv.id)
    assert len(feedback.list(None)) == 3  # feedback stays when its conversation goes
