"""docs/settings.md is rendered from the settings models, and word settings refuse a typo at start."""

import importlib.util
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.core.settings import GENERATOR_BACKEND_ALIASES, Settings
from rag.generation.protocol import LLAMA_CPP, OPENAI, TRANSFORMERS, backend_kind

ROOT = Path(__file__).resolve().parents[2]


def _settings_doc():
    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts" / "settings_doc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_settings_page_is_what_the_settings_render():
    committed = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == _settings_doc().render(), (
        "docs/settings.md is stale: regenerate with `.venv/bin/python scripts/settings_doc.py > docs/settings.md`"
    )


def test_every_setting_has_a_description():
    doc = _settings_doc()
    missing = [
        f"{section}.{name}"
        for section, _, model in doc.sections()
        for name, field in model.model_fields.items()
        if not field.description
    ]
    missing += [name for name, field in Settings.model_fields.items() if not field.description]
    assert not missing


@pytest.mark.parametrize(
    "variable, value, allowed",
    [
        ("RAG_INDEX__KIND", "hsnw", "'auto', 'flat', 'hnsw' or 'ivfpq'"),
        ("RAG_RETRIEVAL__MODE", "semantic", "'hybrid', 'dense' or 'lexical'"),
        ("RAG_RETRIEVAL__FUSION", "rfr", "'rrf' or 'weighted'"),
        ("RAG_GENERATOR__BACKEND", "tgi", "'llama.cpp', 'transformers' or 'openai'"),
        ("RAG_EMBEDDER__BACKEND", "tensorrt", "'auto', 'torch', 'int8' or 'onnx'"),
        ("RAG_ANSWER__TABLES", "markdown", "'rows' or 'html'"),
        ("RAG_LOG_FORMAT", "yaml", "'text' or 'json'"),
    ],
)
def test_a_wrong_word_fails_at_start_naming_the_allowed_ones(monkeypatch, tmp_path, variable, value, allowed):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as error:
        Settings(data_dir=tmp_path)
    assert allowed in str(error.value) and repr(value) in str(error.value)


def test_words_are_read_in_any_case(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_INDEX__KIND", "HNSW")
    monkeypatch.setenv("RAG_EMBEDDER__BACKEND", "ONNX")
    monkeypatch.setenv("RAG_GENERATOR__DEVICE", "CUDA:1")
    s = Settings(data_dir=tmp_path)
    assert (s.index.kind, s.embedder.backend, s.generator.device) == ("hnsw", "onnx", "cuda:1")


def test_a_device_that_is_not_a_torch_device_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_EMBEDDER__DEVICE", "gpu")
    with pytest.raises(ValidationError, match="embedder.device"):
        Settings(data_dir=tmp_path)


@pytest.mark.parametrize(
    "spelling", [*GENERATOR_BACKEND_ALIASES, "llama-cpp", "LlamaCpp", "HF", "openai-compatible", "OpenAI_Compatible"]
)
def test_loose_backend_spellings_are_kept_and_agree_with_the_factory(monkeypatch, tmp_path, spelling):
    monkeypatch.setenv("RAG_GENERATOR__BACKEND", spelling)
    assert Settings(data_dir=tmp_path).generator.backend == backend_kind(spelling)


def test_the_settings_know_every_spelling_the_factory_knows():
    assert set(GENERATOR_BACKEND_ALIASES.values()) == {LLAMA_CPP, TRANSFORMERS, OPENAI}
