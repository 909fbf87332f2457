"""Generator seam: `generate(messages, max_tokens, stop) -> text`, via llama.cpp on a verified GGUF."""

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from rag.errors import MissingExtra
from rag.models import ModelRegistry, ResolvedModel
from rag.settings import GeneratorSettings

log = logging.getLogger(__name__)


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    prompt_ms: float  # llama.cpp's prompt-eval time for this call (0 when unavailable)
    decode_ms: float  # llama.cpp's token-generation time for this call (0 when unavailable)
    total_ms: float


class Generator(Protocol):
    name: str

    def generate(self, messages: list[dict], max_tokens: int, stop: list[str] | None = None) -> Generation: ...


class LlamaCppGenerator:
    """Qwen2.5 GGUF through llama-cpp-python, using the chat template stored in the GGUF."""

    def __init__(self, settings: GeneratorSettings, registry: ModelRegistry):
        self.settings = settings
        self.registry = registry
        self.name = settings.model
        self._llm = None
        self._resolved: ResolvedModel | None = None
        self._lock = threading.Lock()

    @property
    def resolved(self) -> ResolvedModel:
        if self._resolved is None:
            self._resolved = self.registry.resolve(self.name)
        return self._resolved

    @property
    def sha256(self) -> str:
        return self.resolved.sha256

    def warm_up(self):
        """Verify the GGUF's sha256 and load it (idempotent)."""
        if self._llm is not None:
            return self._llm
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise MissingExtra("llama-cpp-python is not installed: run the setup script (scripts/setup.sh)") from exc
        path = self.resolved.path
        threads = self.settings.threads or os.cpu_count() or 2
        self._llm = Llama(model_path=str(path), n_ctx=self.settings.n_ctx, n_threads=threads,
                          n_gpu_layers=self.settings.gpu_layers, verbose=False, seed=0)
        log.info("generator %s loaded (%d threads)", self.name, threads)
        return self._llm

    def count_tokens(self, text: str) -> int:
        return len(self.warm_up().tokenize(text.encode(), add_bos=False, special=True))

    def generate(self, messages: list[dict], max_tokens: int, stop: list[str] | None = None) -> Generation:
        """One deterministic completion (temperature from settings, 0 by default)."""
        llm = self.warm_up()
        with self._lock:  # a llama.cpp context serves one request at a time
            _perf(llm, reset=True)
            t0 = time.perf_counter()
            out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, stop=stop,
                                             temperature=self.settings.temperature, seed=0)
            total = (time.perf_counter() - t0) * 1000
            prompt_ms, decode_ms = _perf(llm)
        usage = out.get("usage", {})
        return Generation(text=out["choices"][0]["message"]["content"] or "",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          prompt_ms=prompt_ms, decode_ms=decode_ms, total_ms=total)


def _perf(llm, reset: bool = False) -> tuple[float, float]:
    """(prompt-eval ms, decode ms) from llama.cpp's per-context counters; `reset` zeroes them first.

    The counters accumulate over the context's life, so they are reset before each call.
    """
    try:
        import llama_cpp

        ctx = llm._ctx.ctx
        if reset:
            llama_cpp.llama_perf_context_reset(ctx)
            return 0.0, 0.0
        data = llama_cpp.llama_perf_context(ctx)
        return float(data.t_p_eval_ms), float(data.t_eval_ms)
    except Exception:  # noqa: BLE001 - timings are informative only
        return 0.0, 0.0
