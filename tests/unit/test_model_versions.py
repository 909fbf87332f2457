"""Model versions on a fake manifest (two tiny "GGUF" bases): register, use, rollback, history, hash checks, and
the switch of the served generator in Services (fake generators, no weights)."""

import json
import threading

import pytest

from rag.core.errors import BadInput, HashMismatch, ModelError, NotFound
from rag.core.hashing import sha256_file
from rag.core.settings import GeneratorSettings, Settings
from rag.core.types import ModelRef
from rag.generation.llama_cpp import LlamaCppGenerator
from rag.models.registry import ModelRegistry
from rag.models.versions import ModelVersions
from rag.service import services as services_module
from rag.service.services import Services, version_settings


def fake_registry(settings: Settings) -> ModelRegistry:
    registry = ModelRegistry(settings)
    settings.models_path.mkdir(parents=True, exist_ok=True)
    registry.manifest = {}
    for name in ("tiny-a", "tiny-b"):
        path = settings.models_path / f"{name}.gguf"
        path.write_bytes(name.encode())
        registry.manifest[name] = {
            "kind": "generator",
            "file": path.name,
            "licence": "x",
            "sha256": sha256_file(path),
            "source": {"type": "wheel-parts", "parts": []},
        }
    registry.manifest["emb"] = {
        "kind": "embedder",
        "file": "emb",
        "licence": "x",
        "sha256": "0" * 64,
        "source": {"type": "wheel-parts", "parts": []},
    }
    return registry


@pytest.fixture
def settings(tmp_path):
    return Settings(
        data_dir=tmp_path, models_dir=tmp_path / "models", versions_dir=tmp_path / "versions", generator={"model": "tiny-a"}
    )


@pytest.fixture
def versions(settings):
    return ModelVersions(settings, fake_registry(settings))


@pytest.fixture
def adapter(tmp_path):
    path = tmp_path / "adapter.gguf"
    path.write_bytes(b"GGUF adapter bytes")
    return path


def test_builtin_versions_are_the_manifest_generators_and_the_settings_decide_at_first(versions, settings):
    assert versions.root == settings.data_dir / "versions"
    assert Settings(models_dir=settings.models_dir, versions_dir=None).versions_path == settings.models_dir / "versions"
    assert [v.id for v in versions.builtin()] == ["tiny-a", "tiny-b"]
    assert all(v.adapter is None and v.source == "builtin" for v in versions.builtin())
    current = versions.current()
    assert (current.id, current.base, current.source, current.adapter) == ("tiny-a", "tiny-a", "settings", None)
    assert versions.state() == {"version": None, "history": []}
    assert not versions.pointer.exists()


def test_settings_with_an_adapter_are_a_version_of_their_own(tmp_path, adapter):
    settings = Settings(
        data_dir=tmp_path,
        models_dir=tmp_path / "models",
        versions_dir=tmp_path / "versions",
        generator={"model": "tiny-b", "lora_path": adapter, "lora_sha256": "ab" * 32},
    )
    v = ModelVersions(settings, fake_registry(settings)).current()
    assert (v.id, v.base, v.adapter, v.adapter_sha256, v.source) == ("tiny-b+adapter", "tiny-b", adapter, "ab" * 32, "settings")


def test_register_copies_adapter_card_and_report_into_the_version_folder(versions, adapter, tmp_path):
    card, report = tmp_path / "card.json", tmp_path / "report.json"
    card.write_text(json.dumps({"examples": 12}))
    report.write_text(json.dumps({"accuracy": 0.5}))
    v = versions.register(
        "tuned-1", "tiny-b", adapter=adapter, data_card=card, eval_report=report, notes="first", meta={"ranks": [8]}
    )
    folder = versions.root / "tuned-1"
    assert sorted(p.name for p in folder.iterdir()) == ["adapter.gguf", "data_card.json", "eval_report.json", "version.json"]
    assert v.adapter == folder / "adapter.gguf" and v.adapter_sha256 == sha256_file(adapter)
    assert v.base_sha256 == versions.registry.manifest["tiny-b"]["sha256"]
    assert json.loads(v.data_card.read_text()) == {"examples": 12} and v.notes == "first" and v.meta == {"ranks": [8]}
    assert v.created_at and adapter.exists()  # copied, not moved
    assert [x.id for x in versions.list()] == ["tiny-a", "tiny-b", "tuned-1"]
    assert not list(versions.root.glob(".*partial*"))


def test_register_refuses_bad_ids_reuse_unknown_bases_and_non_json_cards(versions, adapter, tmp_path):
    versions.register("tuned-1", "tiny-a", adapter=adapter)
    for bad in ("tuned-1", "tiny-a", "../escape", "", "a b"):
        with pytest.raises(BadInput):
            versions.register(bad, "tiny-a", adapter=adapter)
    with pytest.raises(NotFound):
        versions.register("tuned-2", "gpt-17", adapter=adapter)
    with pytest.raises(BadInput, match="not an answer model"):
        versions.register("tuned-2", "emb", adapter=adapter)
    (tmp_path / "card.txt").write_text("not json")
    with pytest.raises(BadInput, match="not JSON"):
        versions.register("tuned-2", "tiny-a", adapter=adapter, data_card=tmp_path / "card.txt")
    with pytest.raises(NotFound):
        versions.get("tuned-2")


def test_use_and_rollback_walk_the_history(versions, adapter):
    versions.register("tuned-1", "tiny-a", adapter=adapter)
    versions.register("tuned-2", "tiny-b", adapter=adapter)
    assert versions.use("tuned-1").id == "tuned-1"
    assert versions.current().id == "tuned-1"
    versions.use("tuned-2")
    versions.use("tuned-2")  # already current: no history entry
    versions.use("tiny-b")
    assert versions.state() == {"version": "tiny-b", "history": [None, "tuned-1", "tuned-2"]}
    assert versions.rollback().id == "tuned-2"
    assert versions.rollback().id == "tuned-1"
    back = versions.rollback()  # before the first `use`: the settings decide again
    assert (back.id, back.source) == ("tiny-a", "settings")
    assert versions.state() == {"version": None, "history": []}
    with pytest.raises(BadInput, match="no earlier model version"):
        versions.rollback()
    with pytest.raises(NotFound):
        versions.use("nope")


def test_the_pointer_is_replaced_atomically(versions, adapter, monkeypatch):
    versions.register("tuned-1", "tiny-a", adapter=adapter)
    versions.use("tuned-1")
    before = versions.pointer.read_text()
    import os

    def crash(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        versions.use("tiny-b")
    assert versions.pointer.read_text() == before  # a failed switch leaves the old pointer whole
    assert versions.current().id == "tuned-1"


def test_a_changed_adapter_is_refused_by_use_and_at_load(versions, adapter, settings):
    v = versions.register("tuned-1", "tiny-a", adapter=adapter)
    versions.use("tuned-1")
    v.adapter.write_bytes(b"tampered")
    with pytest.raises(HashMismatch, match="refusing"):
        versions.use("tuned-1")
    versions.rollback()
    with pytest.raises(HashMismatch, match="refusing"):
        versions.use("tuned-1")
    assert versions.current().id == "tiny-a"
    gen = LlamaCppGenerator(version_settings(settings.generator, v), versions.registry, version=v.id)
    with pytest.raises(HashMismatch, match="refusing to load"):
        gen.warm_up()


def test_a_version_made_for_another_base_hash_is_refused(versions, adapter):
    versions.register("tuned-1", "tiny-a", adapter=adapter)
    versions.registry.manifest["tiny-a"]["sha256"] = "f" * 64  # the manifest moved on
    with pytest.raises(HashMismatch, match="manifest now pins"):
        versions.use("tuned-1")


def test_an_unreadable_pointer_is_a_model_error(versions):
    versions.root.mkdir(parents=True)
    versions.pointer.write_text("{broken")
    with pytest.raises(ModelError, match="unreadable"):
        versions.current()


class FakeGenerator:
    built: list = []

    def __init__(self, settings, registry, version=None):
        self.settings, self.version, self.warm = settings, version, False
        FakeGenerator.built.append(self)

    def warm_up(self):
        self.warm = True

    def ref(self):
        return ModelRef(name=self.settings.model, version=self.version, adapter_sha256=self.settings.lora_sha256)


@pytest.fixture
def services(settings, versions, monkeypatch):
    FakeGenerator.built = []
    monkeypatch.setattr(services_module, "make_generator", FakeGenerator)
    s = Services(settings)
    s.__dict__["registry"] = versions.registry
    return s


def test_services_switch_generators_when_the_pointer_changes(services, adapter):
    versions = services.versions
    first = services.generator
    assert first.version == "tiny-a" and services.generator is first  # built once, reused while nothing changes
    assert not first.warm  # the first one loads lazily or in warm_up(), as before
    v = versions.register("tuned-1", "tiny-b", adapter=adapter)
    held = services.generator  # a request in flight holds this one
    versions.use("tuned-1")  # another process (`rag models use`) switches
    second = services.generator
    assert second is not held and second.warm  # loaded before it serves
    assert (second.settings.model, second.settings.lora_path, second.settings.lora_sha256) == (
        "tiny-b",
        v.adapter,
        v.adapter_sha256,
    )
    assert second.ref().version == "tuned-1" and held.ref().version == "tiny-a"
    assert services.model_version.id == "tuned-1"
    versions.rollback()
    assert services.generator.version == "tiny-a" and len(FakeGenerator.built) == 3


def test_concurrent_questions_after_a_switch_build_one_generator(services, adapter):
    services.versions.register("tuned-1", "tiny-b", adapter=adapter)
    assert services.generator.version == "tiny-a"
    services.versions.use("tuned-1")
    got = []
    threads = [threading.Thread(target=lambda: got.append(services.generator)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(g) for g in got}) == 1 and len(FakeGenerator.built) == 2


def test_a_fixed_generator_ignores_versions(settings, versions, adapter):
    fixed = object()
    s = Services(settings, generator=fixed)
    versions.register("tuned-1", "tiny-b", adapter=adapter)
    versions.use("tuned-1")
    assert s.generator is fixed


def test_an_adapter_version_needs_a_local_backend(settings, versions, adapter):
    v = versions.register("tuned-1", "tiny-b", adapter=adapter)
    with pytest.raises(ModelError, match="OpenAI-compatible endpoint"):
        version_settings(GeneratorSettings(backend="openai", endpoint="http://x/v1"), v)
    openai = GeneratorSettings(backend="openai", endpoint="http://x/v1", model="served")
    assert (
        version_settings(openai, ModelVersions(settings.model_copy(update={"generator": openai}), versions.registry).current())
        is openai
    )
    with pytest.raises(BadInput, match="llama.cpp backend"):
        pytest.importorskip("transformers")
        from rag.generation.transformers import TransformersGenerator

        TransformersGenerator(version_settings(GeneratorSettings(backend="transformers"), v), versions.registry)


def test_a_default_version_in_the_settings_serves_until_one_is_chosen(tmp_path, adapter):
    def make(**generator):
        s = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", versions_dir=tmp_path / "versions", generator=generator)
        return ModelVersions(s, fake_registry(s))

    make(model="tiny-a").register("tuned-b", "tiny-b", adapter=adapter)
    assert make(version="tuned-b").current().id == "tuned-b"  # the default version
    assert make(version="tuned-b", model="tiny-a", threads=2).current().id == "tuned-b"  # named both: version wins
    defaulted = make(model="tiny-a")
    defaulted.settings.generator = GeneratorSettings.model_validate({"model": "tiny-a"})
    defaulted.settings.generator.__dict__["version"] = "tuned-b"  # a default from the code, not set by the user
    assert defaulted.current().id == "tiny-a"  # the model was set explicitly: it is served, as set
    with pytest.raises(NotFound):
        make(version="no-such-version").current()
    defaulted.use("tiny-b")
    assert defaulted.current().id == "tiny-b"  # `rag models use` wins over both
