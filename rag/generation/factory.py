"""Builds the generator the settings ask for; the one place that knows every generator backend."""

from rag.core.errors import BadInput
from rag.core.settings import GeneratorSettings, Settings
from rag.generation.isolated import IsolatedGenerator
from rag.generation.llama_cpp import LlamaCppGenerator
from rag.generation.protocol import LLAMA_CPP, OPENAI, TRANSFORMERS, Generator, backend_kind
from rag.models.registry import ModelRegistry


def make_generator(settings: GeneratorSettings, registry: ModelRegistry, version: str | None = None) -> Generator:
    """The generator the settings ask for (backend: llama.cpp | transformers | openai).

    Building one is cheap (weights load on `warm_up()`), but a backend whose optional packages are missing
    raises MissingExtra here, naming what to install. `version` is the model version id its answers report
    (local backends; an endpoint serves whatever it serves).
    """
    backend = backend_kind(settings.backend)
    if backend == LLAMA_CPP:
        return LlamaCppGenerator(settings, registry, version)
    if backend == TRANSFORMERS:
        from rag.generation.transformers import TransformersGenerator

        return TransformersGenerator(settings, registry, version)
    if backend == OPENAI:
        from rag.generation.openai_compatible import OpenAIGenerator

        return OpenAIGenerator(settings)
    raise BadInput(f"unknown generator backend {settings.backend!r} (llama.cpp, transformers or openai)")


def isolated_generator(settings: GeneratorSettings, registry: ModelRegistry, version: str | None = None) -> Generator:
    """`make_generator`'s generator, in a process of its own when it runs a local model (llama.cpp, transformers), so
    a native crash costs one request, not the process serving it (`rag.generation.isolated`)."""
    inner = make_generator(settings, registry, version)
    if backend_kind(settings.backend) == OPENAI:
        return inner  # an HTTP client: nothing native to crash
    return IsolatedGenerator(inner, _built_in_child, (settings, registry.settings, version))


def _built_in_child(settings: GeneratorSettings, app_settings: Settings, version: str | None) -> Generator:
    return make_generator(settings, ModelRegistry(app_settings), version)
