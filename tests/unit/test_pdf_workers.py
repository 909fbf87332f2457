"""A long PDF's page ranges are read in worker processes; each builds its own OCR reader with the caller's settings
(its models dir and hash cache), never with a fresh Settings() from the worker's environment."""

from ingest.parse.pdf import worker_scan_reader
from rag.core.settings import Settings


def test_a_worker_reader_uses_the_callers_models_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAG_MODELS_DIR", raising=False)
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "shared-models")
    reader = worker_scan_reader("rapidocr", "eng", settings)
    assert reader.registry.settings.models_path == tmp_path / "shared-models"
    assert reader.registry.cache.file.parent == tmp_path / "shared-models"
    assert worker_scan_reader("rapidocr", "eng", None).registry is None  # nothing to verify again
