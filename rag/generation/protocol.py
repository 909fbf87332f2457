"""Generator seam: `generate(messages, max_tokens, stop, on_token) -> Generation`.

Three backends follow this protocol, each in its own module, chosen by `rag.generation.factory.make_generator`
from `settings.backend`: llama.cpp on a verified GGUF, optionally with a LoRA adapter (`llama_cpp`, the default),
transformers on the same verified GGUF (`transformers`) and an OpenAI-compatible HTTP endpoint
(`openai_compatible`). `ref()` names the model behind every answer: a manifest name with its sha256 (plus the
adapter's, and the model version it belongs to, see `rag.models.versions`), or an endpoint's model and URL.
`on_token` receives each piece of text as it is produced (streaming); if it raises, generation stops and
the exception propagates (that is how a disconnected client cancels its generation).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rag.core.settings import canonical_generator_backend
from rag.core.types import ModelRef

OnToken = Callable[[str], None]

LLAMA_CPP, TRANSFORMERS, OPENAI = "llama.cpp", "transformers", "openai"


def backend_kind(name: str) -> str | None:
    """The backend a settings value names (`llama.cpp`, `transformers` or `openai`, spelt loosely), or None."""
    return canonical_generator_backend(name)


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    prompt_ms: float  # prompt-eval time for this call (0 when the backend cannot tell)
    decode_ms: float  # token-generation time for this call (0 when the backend cannot tell)
    total_ms: float
    first_token_ms: float = 0.0  # time until the first piece of text arrived


class Generator(Protocol):
    name: str

    def warm_up(self) -> object: ...

    def ref(self) -> ModelRef: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(
        self, messages: list[dict], max_tokens: int, stop: list[str] | None = None, on_token: OnToken | None = None
    ) -> Generation: ...
