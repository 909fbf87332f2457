"""The embedder's backends (torch, int8, onnx) on the real packaged model, and the index's record of them."""

import json

import numpy as np
import pytest

from rag.core.errors import HashMismatch, IndexMismatch
from rag.models.registry import ModelRegistry
from rag.retrieval.embedder import SentenceTransformerEmbedder
from rag.service.services import Services
from tests.helpers.models import make_settings

pytestmark = pytest.mark.slow

TEXTS = [
    "When is lunch served?",
    "The cafeteria serves lunch from 11:30 to 13:30 on weekdays, with a vegetarian dish.",
    "The crane was inspected in March.",
    "x",
]


@pytest.fixture(scope="module")
def models_tmp(tmp_path_factory):
    """A models dir of our own: the ONNX export is written there, never into the shared one."""
    return tmp_path_factory.mktemp("models")


def embedder(tmp_path, models_tmp, backend: str) -> SentenceTransformerEmbedder:
    settings = make_settings(tmp_path).model_copy(update={"models_dir": models_tmp})
    settings.embedder = settings.embedder.model_copy(update={"backend": backend, "batch_size": 2})
    return SentenceTransformerEmbedder(settings.embedder, ModelRegistry(settings))


@pytest.fixture(scope="module")
def torch_vecs(tmp_path_factory, models_tmp):
    return embedder(tmp_path_factory.mktemp("t"), models_tmp, "torch").embed(TEXTS)


def test_onnx_export_gives_the_torch_vectors_in_the_callers_order(tmp_path, models_tmp, torch_vecs):
    e = embedder(tmp_path, models_tmp, "onnx")
    vecs = e.embed(TEXTS)  # batch size 2 over texts of very different lengths: sorted, then restored
    assert vecs.shape == (4, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    assert np.min(np.sum(vecs * torch_vecs, axis=1)) > 0.9999
    ident = e.identity()
    assert ident["backend"] == "onnx" and len(ident["artifact_sha256"]) == 64
    record = json.loads(next(models_tmp.glob("onnx/*/export.json")).read_text())
    assert record["source_sha256"] == e.sha256 and record["onnx_sha256"] == ident["artifact_sha256"]


def test_a_tampered_onnx_export_is_refused(tmp_path, models_tmp):
    embedder(tmp_path, models_tmp, "onnx").warm_up()  # make sure the export exists
    folder = next(models_tmp.glob("onnx/*/"))
    record = json.loads((folder / "export.json").read_text())
    (folder / "export.json").write_text(json.dumps(dict(record, onnx_sha256="0" * 64)))
    try:
        with pytest.raises(HashMismatch):
            embedder(tmp_path, models_tmp, "onnx").warm_up()
    finally:
        (folder / "export.json").write_text(json.dumps(record))


def test_int8_vectors_stay_close_to_torch_and_rank_the_same(tmp_path, models_tmp, torch_vecs):
    vecs = embedder(tmp_path, models_tmp, "int8").embed(TEXTS)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    assert np.min(np.sum(vecs * torch_vecs, axis=1)) > 0.8
    assert not np.allclose(vecs, torch_vecs, atol=1e-4)  # really another backend
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_index_records_the_backend_refuses_search_with_another_and_writes_rebuild_it(tmp_path, models_tmp):
    from ingest.pipeline import Ingestor
    from rag.retrieval.knowledge_base import embed_text

    data = tmp_path / "data"
    torch_side = Services(make_settings(data).model_copy(update={"models_dir": models_tmp}))
    torch_side.settings.embedder = torch_side.settings.embedder.model_copy(update={"backend": "torch"})
    Ingestor(torch_side).ingest_text("canteen", "The cafeteria serves lunch from 11:30 to 13:30 on weekdays.")
    manifest = torch_side.kb.versions.manifest()
    assert manifest["embedder"]["backend"] == "torch" and manifest["embedder"]["name"] == "all-MiniLM-L6-v2"

    settings = make_settings(data).model_copy(update={"models_dir": models_tmp})
    settings.embedder = settings.embedder.model_copy(update={"backend": "int8"})
    int8_side = Services(settings)
    with pytest.raises(IndexMismatch, match="backend 'torch' in the index, 'int8' configured"):
        int8_side.kb.search("When is lunch?", 3)
    assert int8_side.kb.rebuild()["vectors"] == 1
    assert int8_side.kb.versions.manifest()["embedder"]["backend"] == "int8"
    hits, _ = int8_side.kb.search("When is lunch?", 3)
    assert hits and hits[0].doc == "canteen"
    with pytest.raises(IndexMismatch):  # and now the torch side is the one refused
        torch_side.kb.search("When is lunch?", 3)

    # a write never mixes backends: it re-embeds the stored chunks with its own backend first
    Ingestor(torch_side).ingest_text("parking", "Parking permits cost 40 EUR per month.")
    manifest = torch_side.kb.versions.manifest()
    assert manifest["embedder"]["backend"] == "torch" and manifest["count"] == 2
    hits, _ = torch_side.kb.search("How much is a parking permit?", 1)
    assert hits[0].doc == "parking"
    canteen = next(d for d in torch_side.kb.store.documents() if d.name == "canteen")
    indexed = embed_text("", "The cafeteria serves lunch from 11:30 to 13:30 on weekdays.", canteen.profile.context)
    vec = torch_side.embedder.embed([indexed])[0]
    assert torch_side.kb.index().search(vec, 1)[0][1] > 0.9999  # the canteen vector is torch's again


def test_a_mismatched_index_is_a_409_with_a_one_line_reason_over_http(tmp_path, models_tmp):
    from fastapi.testclient import TestClient

    from api.http.app import create_app
    from ingest.pipeline import Ingestor

    data = tmp_path / "data"
    built = Services(make_settings(data).model_copy(update={"models_dir": models_tmp}))
    built.settings.embedder = built.settings.embedder.model_copy(update={"backend": "torch"})
    Ingestor(built).ingest_text("canteen", "The cafeteria serves lunch from 11:30 to 13:30 on weekdays.")
    settings = make_settings(data).model_copy(update={"models_dir": models_tmp})
    settings.embedder = settings.embedder.model_copy(update={"backend": "onnx"})
    with TestClient(create_app(settings, warm_up=False, host="127.0.0.1"), base_url="http://127.0.0.1") as client:
        r = client.post("/v1/search", json={"question": "When is lunch?"})
        assert r.status_code == 409 and "rag index rebuild" in r.json()["detail"]
        assert "\n" not in r.json()["detail"]
        assert client.get("/v1/info").json()["index"]["embedder"]["backend"] == "torch"
