from rag.core.settings import Settings


def test_env_nested_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAG_GENERATOR__MODEL", "qwen2.5-coder-0.5b-instruct-q4_k_m")
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.delenv("RAG_MODELS_DIR", raising=False)
    s = Settings()
    assert s.data_dir == tmp_path and s.top_k == 7
    assert s.generator.model == "qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert s.models_path == tmp_path / "models"


def test_default_generator_is_the_measured_choice(monkeypatch, tmp_path):
    from rag.models.versions import ModelVersions

    for key in ("RAG_GENERATOR__MODEL", "RAG_GENERATOR__VERSION", "RAG_GENERATOR__LORA_PATH", "RAG_GENERATOR__BACKEND"):
        monkeypatch.delenv(key, raising=False)
    s = Settings(versions_dir=tmp_path)
    assert s.generator.model == "qwen2.5-coder-1.5b-instruct-q4_k_m"  # the base (and the data teacher)
    served = ModelVersions(s).current()  # the packaged adapter on it, until `rag models use` picks another
    assert (served.id, served.source, served.base) == ("qwen2.5-coder-1.5b-grounded-v1", "packaged", s.generator.model)
    monkeypatch.setenv("RAG_GENERATOR__MODEL", "qwen2.5-coder-0.5b-instruct-q4_k_m")  # a model set explicitly wins
    assert ModelVersions(Settings(versions_dir=tmp_path)).current().id == "qwen2.5-coder-0.5b-instruct-q4_k_m"


def test_embedder_backend_auto_is_onnx_on_cpu_and_torch_on_gpu():
    from rag.core.settings import EmbedderSettings
    from rag.retrieval.embedder import resolve_backend

    assert EmbedderSettings().backend == "auto"
    assert resolve_backend("auto", "cpu") == "onnx"
    assert resolve_backend("auto", "cuda") == "torch"
    assert resolve_backend("int8", "cpu") == "int8" and resolve_backend("torch", "cpu") == "torch"
    import torch

    assert resolve_backend("auto", "auto") == ("torch" if torch.cuda.is_available() else "onnx")


def test_unknown_embedder_backend_is_refused(tmp_path):
    import pytest

    from rag.core.errors import BadInput
    from rag.core.settings import EmbedderSettings, Settings
    from rag.models.registry import ModelRegistry
    from rag.retrieval.embedder import SentenceTransformerEmbedder

    with pytest.raises(BadInput, match="unknown embedder backend 'tensorrt'"):
        SentenceTransformerEmbedder(
            EmbedderSettings.model_construct(backend="tensorrt"), ModelRegistry(Settings(data_dir=tmp_path))
        )
