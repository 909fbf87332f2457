"""Document tags: storage and migration, the tag filter before the top-k cut, and `--tag` parsing."""

import sqlite3
import zlib

import numpy as np
import pytest

from api.cli.commands import parse_tags
from rag.core.errors import BadInput
from rag.core.settings import Settings
from rag.core.types import Chunk, Document, Filters
from rag.retrieval.knowledge_base import KnowledgeBase
from rag.store.sql import SqlStore


def doc(i: str, tags: dict | None = None, collection: str = "default") -> Document:
    return Document(
        id=i, name=f"{i}.pdf", path=f"/x/{i}.pdf", collection=collection, sha256=i, status="ok", pages=2, tags=tags or {}
    )


def chunks(doc_id: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(id=f"{doc_id}-{k}", doc_id=doc_id, page=k + 1, text=t) for k, t in enumerate(texts)]


def test_tags_are_stored_shown_and_replaced_with_the_document(make_store):
    store = make_store()
    store.replace_document(doc("a", {"department": "finance", "year": "2024"}), 1, 1, chunks("a", ["x"]))
    store.replace_document(doc("b"), 1, 1, chunks("b", ["y"]))
    assert {d.id: d.tags for d in store.documents()} == {"a": {"department": "finance", "year": "2024"}, "b": {}}
    assert store.find_document("default", "/x/a.pdf").tags["year"] == "2024"
    new = doc("a2", {"year": "2025"}).model_copy(update={"path": "/x/a.pdf"})  # a new version at the same path
    store.replace_document(new, 1, 1, chunks("a2", ["x2"]))
    assert store.find_document("default", "/x/a.pdf").tags == {"year": "2025"}
    store.set_tags("b", {"department": "hr"})
    assert store.find_document("default", "/x/b.pdf").tags == {"department": "hr"}
    store.delete_document("b")
    assert store.sql.one("SELECT COUNT(*) FROM document_tags WHERE doc_id='b'")[0] == 0


def test_vids_matching_requires_every_tag_and_combines_with_other_filters(make_store):
    store = make_store()
    _, a = store.replace_document(doc("a", {"department": "finance", "year": "2024"}), 1, 1, chunks("a", ["p1", "p2"]))
    _, b = store.replace_document(doc("b", {"department": "finance", "year": "2023"}), 1, 1, chunks("b", ["p1"]))
    _, c = store.replace_document(doc("c", {"department": "hr", "year": "2024"}, "other"), 1, 1, chunks("c", ["p1"]))
    match = lambda **kw: sorted(store.vids_matching(Filters(**kw)))  # noqa: E731
    assert match(tags={"department": "finance"}) == sorted(a + b)
    assert match(tags={"department": "finance", "year": "2024"}) == sorted(a)
    assert match(tags={"year": "2024"}) == sorted(a + c)
    assert match(tags={"year": "2024"}, collection="other") == c
    assert match(tags={"year": "2024"}, page_from=2) == [a[1]]
    assert match(tags={"year": "2024"}, docs=["b.pdf"]) == []
    assert match(tags={"department": "legal"}) == []
    assert match(tags={"Department": "finance"}) == []  # keys and values match exactly
    assert Filters(tags={"k": "v"}).active and not Filters().active


def test_an_old_database_gains_the_tags_table_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE documents (id TEXT PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL,
            collection TEXT NOT NULL DEFAULT 'default', sha256 TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0,
            mtime REAL NOT NULL DEFAULT 0, status TEXT NOT NULL, error TEXT, pages INTEGER NOT NULL DEFAULT 0,
            ingested_at TEXT);
        CREATE TABLE chunks (vid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
            doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, page INTEGER NOT NULL,
            bbox TEXT NOT NULL, heading TEXT NOT NULL DEFAULT '', text TEXT NOT NULL, html TEXT NOT NULL DEFAULT '',
            ord INTEGER NOT NULL DEFAULT 0);
        INSERT INTO documents(id,name,path,sha256,status,pages) VALUES ('d1','old.pdf','/x/old.pdf','s','ok',1);
        INSERT INTO chunks(id,doc_id,page,bbox,text) VALUES ('c1','d1',1,'[]','kept text');
    """)
    db.commit()
    db.close()
    store = SqlStore.sqlite(path)
    assert [(d.name, d.chunks, d.tags) for d in store.documents()] == [("old.pdf", 1, {})]
    assert [row[:3] for row in store.all_texts()] == [(1, "", "kept text")]
    store.set_tags("d1", {"year": "2020"})
    assert store.vids_matching(Filters(tags={"year": "2020"})) == [1]
    assert SqlStore.sqlite(path).documents()[0].tags == {"year": "2020"}  # reopening changes nothing


class WordHashEmbedder:
    """A deterministic bag-of-words embedder for tests of retrieval logic without a model."""

    name, sha256, backend, dim = "word-hash", "0" * 64, "test", 64

    def warm_up(self) -> None:
        pass

    def identity(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "backend": self.backend}

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.strip(".,?").encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_tag_filter_applies_before_the_cut_in_each_retriever(tmp_path, mode):
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    settings.retrieval.mode, settings.retrieval.candidates, settings.retrieval.max_per_page = mode, 2, 0
    kb = KnowledgeBase(settings, WordHashEmbedder())
    strong = "lunch menu lunch menu lunch menu today"
    for i in range(6):
        kb.put_document(doc(f"s{i}", {"department": "ops"}), 1, 1, chunks(f"s{i}", [f"{strong} {i}"]))
    kb.put_document(doc("weak", {"department": "finance"}), 1, 1, chunks("weak", ["the lunch budget was approved"]))
    unfiltered, _ = kb.search("lunch menu", 2)
    assert "weak.pdf" not in {h.doc for h in unfiltered}
    hits, _ = kb.search("lunch menu", 2, filters=Filters(tags={"department": "finance"}))
    assert [h.doc for h in hits] == ["weak.pdf"]
    assert kb.search("lunch menu", 2, filters=Filters(tags={"department": "legal"}))[0] == []


@pytest.mark.parametrize(
    "given, expected",
    [
        (["department=finance"], {"department": "finance"}),
        (["year = 2024", "a.b-c_d=x=y"], {"year": "2024", "a.b-c_d": "x=y"}),
        (["k=1", "k=2"], {"k": "2"}),
        ([], {}),
    ],
)
def test_parse_tags(given, expected):
    assert parse_tags(given) == expected


@pytest.mark.parametrize("bad", ["novalue", "=x", "k=", "has space=x"])
def test_parse_tags_refuses_malformed(bad):
    with pytest.raises(BadInput):
        parse_tags([bad])


def test_a_bulk_embeds_across_documents_in_blocks_and_handles_replacement_and_deletion(tmp_path, monkeypatch):
    import rag.retrieval.knowledge_base

    monkeypatch.setattr(rag.retrieval.knowledge_base, "EMBED_BLOCK", 4)
    embedder = WordHashEmbedder()
    calls = []
    real = embedder.embed
    embedder.embed = lambda texts: calls.append(len(texts)) or real(texts)
    kb = KnowledgeBase(Settings(data_dir=tmp_path, models_dir=tmp_path / "models"), embedder)
    with kb.bulk():
        for i in range(5):
            kb.put_document(doc(f"d{i}"), 1, 1, chunks(f"d{i}", [f"alpha {i}", f"beta {i}"]))
        replaced = doc("d9").model_copy(update={"path": "/x/d4.pdf"})  # d4 again, new content, still pending
        kb.put_document(replaced, 1, 1, chunks("d9", ["gamma"]))
        kb.delete_document("d3")
    assert calls == [4, 4, 1]  # blocks of 4 chunks across documents, then the rest at the end
    live = kb.live()
    assert live.vectors.size == live.lexical.size == kb.store.count_chunks() == 7
    assert sorted(live.vectors.ids().tolist()) == sorted(kb.store.all_vids())
    hits, _ = kb.search("gamma", 1)
    assert hits[0].doc == "d9.pdf"
