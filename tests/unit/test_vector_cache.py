"""The vector cache: a text embedded once by an embedder is not embedded again (re-ingest, rebuild, repair)."""

import numpy as np

from rag.core.settings import Settings
from rag.core.types import Chunk, Document
from rag.retrieval.knowledge_base import KnowledgeBase
from rag.retrieval.vector_cache import VectorCache
from tests.helpers.apps import HashEmbedder


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return super().embed(texts)


IDENTITY = {"name": "hash-embedder", "sha256": "0" * 64, "backend": "hash"}


def test_only_texts_not_seen_before_are_computed_and_the_order_is_the_callers(tmp_path):
    embedder = CountingEmbedder()
    cache = VectorCache(tmp_path / "c.sqlite", IDENTITY, embedder.dim)
    first = cache.embed(["alpha", "beta", "alpha"], embedder.embed)
    assert embedder.seen == ["alpha", "beta"]  # a repeated text is computed once
    again = cache.embed(["beta", "gamma", "alpha"], embedder.embed)
    assert embedder.seen == ["alpha", "beta", "gamma"]
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[2], first[0])
    np.testing.assert_allclose(again, HashEmbedder().embed(["beta", "gamma", "alpha"]))
    assert len(cache) == 3


def test_another_embedder_never_gets_these_vectors(tmp_path):
    embedder = CountingEmbedder()
    VectorCache(tmp_path / "c.sqlite", IDENTITY, embedder.dim).embed(["alpha"], embedder.embed)
    other = VectorCache(tmp_path / "c.sqlite", IDENTITY | {"backend": "onnx"}, embedder.dim)
    other.embed(["alpha"], embedder.embed)
    assert embedder.seen == ["alpha", "alpha"]
    wider = VectorCache(tmp_path / "c.sqlite", IDENTITY, 2 * embedder.dim)  # a stored vector of the wrong size
    assert wider._get([b"x"]) == {}


def test_keep_only_drops_every_other_text(tmp_path):
    embedder = CountingEmbedder()
    cache = VectorCache(tmp_path / "c.sqlite", IDENTITY, embedder.dim)
    cache.embed(["alpha", "beta", "gamma"], embedder.embed)
    assert cache.keep_only([cache.key("beta")]) == 2
    assert len(cache) == 1
    cache.embed(["alpha", "beta"], embedder.embed)
    assert embedder.seen[3:] == ["alpha"]


def test_a_wrong_shape_from_the_embedder_is_an_error_not_a_cached_vector(tmp_path):
    cache = VectorCache(tmp_path / "c.sqlite", IDENTITY, 8)
    try:
        cache.embed(["alpha"], lambda texts: np.zeros((len(texts), 4), dtype=np.float32))
    except ValueError as exc:
        assert "dimension 8" in str(exc)
    else:
        raise AssertionError("a wrong shape was accepted")
    assert len(cache) == 0


def _doc(name: str) -> Document:
    return Document(id=name, name=f"{name}.pdf", path=f"/x/{name}.pdf", collection="default", sha256=name, status="ok", pages=1)


def _chunks(doc_id: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(id=f"{doc_id}-{t}", doc_id=doc_id, page=1, bbox=[0, 0, 1, 1], text=t) for t in texts]


def test_reingest_and_rebuild_embed_only_what_changed(tmp_path):
    embedder = CountingEmbedder()
    kb = KnowledgeBase(Settings(data_dir=tmp_path, models_dir=tmp_path / "models"), embedder)
    kb.put_document(_doc("a"), 1, 1, _chunks("a", ["revenue grew", "costs fell", "outlook"]))
    assert len(embedder.seen) == 3
    kb.put_document(_doc("a"), 1, 2, _chunks("a", ["revenue grew", "costs rose", "outlook"]))  # one chunk edited
    assert embedder.seen[3:] == ["costs rose"]
    kb.rebuild()
    assert len(embedder.seen) == 4  # nothing new to embed
    assert len(kb._vector_cache()) == 3  # "costs fell" is no longer indexed: dropped
    hits, _ = kb.search("costs rose", 1)
    assert hits[0].text == "costs rose"


def test_the_cache_can_be_turned_off(tmp_path):
    embedder = CountingEmbedder()
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    settings.index.vector_cache = False
    kb = KnowledgeBase(settings, embedder)
    kb.put_document(_doc("a"), 1, 1, _chunks("a", ["revenue grew"]))
    kb.rebuild()
    assert embedder.seen == ["revenue grew", "revenue grew"]
    assert not (tmp_path / "vector_cache.sqlite").exists()
