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
