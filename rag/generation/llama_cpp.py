"""The default generator backend: llama.cpp (llama-cpp-python) on a verified GGUF, optionally with a LoRA adapter.

Before llama.cpp is loaded in this process, `rag.generation.build_check` proves the build runs on this CPU in a
child process.
"""

import logging
import os
import threading

from rag.core.errors import BadInput, HashMismatch, MissingExtra
from rag.core.hashing import sha256_file
from rag.core.settings import GeneratorSettings
from rag.core.types import ModelRef
from rag.generation.build_check import BuildCheckFailed, check_llama_build
from rag.generation.protocol import Generation, OnToken, Stream
from rag.models.registry import ModelRegistry, ResolvedModel

log = logging.getLogger(__name__)


class LlamaCppGenerator:
    """Qwen2.5 GGUF through llama-cpp-python, using the chat template stored in the GGUF, optionally with a
    GGUF LoRA adapter (`lora_path`; refused at load when `lora_sha256` is set and the file differs)."""

    def __init__(self, settings: GeneratorSettings, registry: ModelRegistry, version: str | None = None):
        self.settings = settings
        self.registry = registry
        self.name = settings.model
        self.version = version
        self._llm = None
        self._resolved: ResolvedModel | None = None
        self._adapter_sha: str | None = None
        self._build_error: BuildCheckFailed | None = None
        self._lock = threading.Lock()

    @property
    def resolved(self) -> ResolvedModel:
        if self._resolved is None:
            self._resolved = self.registry.resolve(self.name)
        return self._resolved

    @property
    def sha256(self) -> str:
        return self.resolved.sha256

    def ref(self) -> ModelRef:
        lora = self.settings.lora_path
        if lora and self._adapter_sha is None:
            self._adapter_sha = sha256_file(lora)
        return ModelRef(
            name=self.name,
            backend="llama.cpp",
            sha256=self.sha256,
            version=self.version,
            adapter=str(lora) if lora else None,
            adapter_sha256=self._adapter_sha,
        )

    def verify_adapter(self) -> str | None:
        """The adapter's sha256 (None without one); HashMismatch when it differs from `lora_sha256`."""
        lora = self.settings.lora_path
        if not lora:
            return None
        if not os.path.isfile(lora):
            raise BadInput(f"LoRA adapter not found: {lora}")
        digest = sha256_file(lora)
        pinned = self.settings.lora_sha256
        if pinned and digest != pinned:
            raise HashMismatch(f"LoRA adapter {lora} has sha256 {digest}, {pinned} is pinned: refusing to load it")
        self._adapter_sha = digest
        return digest

    def warm_up(self):
        """Verify the GGUF's sha256 (and the adapter's) and load them (idempotent)."""
        if self._llm is not None:
            return self._llm
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise MissingExtra("llama-cpp-python is not installed: run the setup script (scripts/setup.sh)") from exc
        path = self.resolved.path
        threads = self.settings.threads or os.cpu_count() or 2
        lora = self.settings.lora_path
        self.verify_adapter()
        self.check_build(path, threads)
        self._llm = Llama(
            model_path=str(path),
            n_ctx=self.settings.n_ctx,
            n_threads=threads,
            n_gpu_layers=self.settings.gpu_layers,
            verbose=False,
            seed=0,
            lora_path=str(lora) if lora else None,
        )
        log.info("generator %s loaded (%d threads%s)", self.name, threads, f", adapter {lora}" if lora else "")
        return self._llm

    def check_build(self, path, threads: int) -> None:
        """A test generation in a child process before llama.cpp is loaded here (`rag.generation.build_check`): a build that
        cannot run on this CPU fails with the reason instead of killing this process. A failure is kept and raised
        again at every use, without running the child again."""
        if self._build_error is not None:
            raise self._build_error
        if not self.settings.build_check:
            return
        try:
            check_llama_build(path, threads, cache_file=self.registry.settings.models_path / ".build-check.json")
        except BuildCheckFailed as exc:
            self._build_error = exc
            log.error("%s", exc.message)
            raise

    def count_tokens(self, text: str) -> int:
        return len(self.warm_up().tokenize(text.encode(), add_bos=False, special=True))

    def generate(
        self, messages: list[dict], max_tokens: int, stop: list[str] | None = None, on_token: OnToken | None = None
    ) -> Generation:
        """One deterministic completion (temperature from settings, 0 by default), streamed to `on_token`."""
        llm = self.warm_up()
        with self._lock:  # a llama.cpp context serves one request at a time
            _perf(llm, reset=True)
            out = Stream(on_token)
            usage: dict = {}
            stream = llm.create_chat_completion(
                messages=messages, max_tokens=max_tokens, stop=stop, temperature=self.settings.temperature, seed=0, stream=True
            )
            try:
                for chunk in stream:
                    usage = chunk.get("usage") or usage
                    out.add(chunk["choices"][0]["delta"].get("content") or "")
            finally:
                stream.close()
            prompt_ms, decode_ms, n_prompt, n_decode = _perf(llm)
            # llama-cpp-python keeps the longest prefix this prompt shares with the previous call (the system prompt
            # and worked examples) and evaluates the rest: what the context holds now, less what this call
            # evaluated, was reused. The stream reports no usage, so the prompt's length is known this way too.
            held = int(getattr(llm, "n_tokens", 0) or 0)
        in_context = held - n_decode if held and (n_prompt or n_decode) else 0
        prompt_tokens = int(usage.get("prompt_tokens", 0)) or in_context or _count(llm, messages)
        return out.done(
            prompt_tokens=prompt_tokens,
            completion_tokens=int(usage.get("completion_tokens", 0)) or n_decode,
            prompt_ms=prompt_ms,
            decode_ms=decode_ms,
            cached_tokens=max(in_context - n_prompt, 0),
        )


def _count(llm, messages: list[dict]) -> int:
    """Approximate prompt tokens when the stream does not report usage."""
    try:
        return len(llm.tokenize("\n".join(m["content"] for m in messages).encode(), add_bos=False, special=True))
    except Exception:  # noqa: BLE001 - informative only
        return 0


def _perf(llm, reset: bool = False) -> tuple[float, float, int, int]:
    """(prompt-eval ms, decode ms, prompt tokens evaluated, tokens decoded) from llama.cpp's per-context
    counters; `reset` zeroes them first.

    The counters accumulate over the context's life, so they are reset before each call.
    """
    try:
        import llama_cpp

        ctx = llm._ctx.ctx
        if reset:
            llama_cpp.llama_perf_context_reset(ctx)
            return 0.0, 0.0, 0, 0
        data = llama_cpp.llama_perf_context(ctx)
        return float(data.t_p_eval_ms), float(data.t_eval_ms), int(data.n_p_eval), int(data.n_eval)
    except Exception:  # noqa: BLE001 - timings are informative only
        return 0.0, 0.0, 0, 0
