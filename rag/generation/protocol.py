"""Generator seam: `generate(messages, max_tokens, stop, on_token) -> Generation`.

Three backends follow this protocol, each in its own module, chosen by `rag.generation.factory.make_generator`
from `settings.backend`: llama.cpp on a verified GGUF, optionally with a LoRA adapter (`llama_cpp`, the default),
transformers on the same verified GGUF (`transformers`) and an OpenAI-compatible HTTP endpoint
(`openai_compatible`). `ref()` names the model behind every answer: a manifest name with its sha256 (plus the
adapter's, and the model version it belongs to, see `rag.models.versions`), or an endpoint's model and URL.
`on_token` receives each piece of text as it is produced (streaming); if it raises, generation stops and
the exception propagates (that is how a disconnected client cancels its generation).
"""

import time
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
    cached_tokens: int = 0  # prompt tokens whose state was reused from the previous call (not evaluated again)


class Stream:
    """What every backend does with its streamed pieces: keep them, hand each to `on_token`, time the first piece
    and the whole call, and make the `Generation` at the end.

    `elapsed_s()` is for the backends' own timeouts. A backend that cannot split prefill from decode leaves
    `prompt_ms`/`decode_ms` out of `done()`: prefill is then the time to the first piece, decode the rest.
    """

    def __init__(self, on_token: OnToken | None = None, clock: Callable[[], float] = time.perf_counter):
        self.on_token, self.clock = on_token, clock
        self.t0 = clock()
        self.pieces: list[str] = []
        self.first_ms = 0.0

    def elapsed_s(self) -> float:
        return self.clock() - self.t0

    def add(self, piece: str) -> None:
        """Keep a piece and hand it on; an exception from `on_token` propagates (that stops the generation)."""
        if not piece:
            return
        if not self.pieces:
            self.first_ms = self.elapsed_s() * 1000
        self.pieces.append(piece)
        if self.on_token is not None:
            self.on_token(piece)

    def done(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        prompt_ms: float | None = None,
        decode_ms: float | None = None,
        cached_tokens: int = 0,
    ) -> Generation:
        total = self.elapsed_s() * 1000
        return Generation(
            text="".join(self.pieces),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens or len(self.pieces),
            prompt_ms=self.first_ms if prompt_ms is None else prompt_ms,
            decode_ms=max(total - self.first_ms, 0.0) if decode_ms is None else decode_ms,
            total_ms=total,
            first_token_ms=self.first_ms,
            cached_tokens=max(min(cached_tokens, prompt_tokens), 0),
        )


class Generator(Protocol):
    name: str

    def warm_up(self) -> object: ...

    def ref(self) -> ModelRef: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(
        self, messages: list[dict], max_tokens: int, stop: list[str] | None = None, on_token: OnToken | None = None
    ) -> Generation: ...
