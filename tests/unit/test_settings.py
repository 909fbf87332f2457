from rag.settings import Settings


def test_env_nested_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAG_GENERATOR__MODEL", "qwen2.5-coder-0.5b-instruct-q4_k_m")
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.delenv("RAG_MODELS_DIR", raising=False)
    s = Settings()
    assert s.data_dir == tmp_path and s.top_k == 7
    assert s.generator.model == "qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert s.models_path == tmp_path / "models"


def test_default_generator_is_the_measured_choice(monkeypatch):
    monkeypatch.delenv("RAG_GENERATOR__MODEL", raising=False)
    assert Settings().generator.model == "qwen2.5-coder-1.5b-instruct-q4_k_m"


def test_embedder_backend_auto_is_onnx_on_cpu_and_torch_on_gpu():
    from rag.embedder import resolve_backend
    from rag.settings import EmbedderSettings

    assert EmbedderSettings().backend == "auto"
    assert resolve_backend("auto", "cpu") == "onnx"
    assert resolve_backend("auto", "cuda") == "torch"
    assert resolve_backend("int8", "cpu") == "int8" and resolve_backend("torch", "cpu") == "torch"
    import torch

    assert resolve_backend("auto", "auto") == ("torch" if torch.cuda.is_available() else "onnx")


def test_unknown_embedder_backend_is_refused(tmp_path):
    import pytest

    from rag.embedder import SentenceTransformerEmbedder
    from rag.errors import BadInput
    from rag.models import ModelRegistry
    from rag.settings import EmbedderSettings, Settings

    with pytest.raises(BadInput, match="unknown embedder backend 'tensorrt'"):
        SentenceTransformerEmbedder(EmbedderSettings(backend="tensorrt"), ModelRegistry(Settings(data_dir=tmp_path)))
