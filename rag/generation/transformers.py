"""Generator backend on transformers: the pinned GGUF dequantised into torch (GPU when present, else CPU).

Same protocol as `LlamaCppGenerator`: the registry verifies the GGUF's sha256 before it is loaded, the
chat template comes from the GGUF's tokenizer, decoding is greedy at temperature 0, and pieces of text
stream to `on_token` from a `TextIteratorStreamer` fed by `model.generate` in a worker thread. When
`on_token` raises, a stopping criterion ends the generation at the next token, the thread is joined and
the exception propagates (cancellation).
"""

import logging
import queue
import threading
from pathlib import Path

from rag.core.errors import BadInput, GeneratorTimeout
from rag.core.settings import GeneratorSettings
from rag.core.types import ModelRef
from rag.generation.hf_model import HFModel, check_hf_extra, load_hf_model
from rag.generation.protocol import Generation, OnToken, Stream
from rag.models.registry import ModelRegistry, ResolvedModel

log = logging.getLogger(__name__)


class TransformersGenerator:
    """A manifest GGUF run by transformers (dense weights; `settings.device`: auto | cpu | cuda)."""

    def __init__(self, settings: GeneratorSettings, registry: ModelRegistry, version: str | None = None):
        check_hf_extra()
        if settings.lora_path:
            raise BadInput(
                "lora_path is a GGUF adapter for the llama.cpp backend; the transformers backend "
                "does not apply it (use RAG_GENERATOR__BACKEND=llama.cpp)"
            )
        self.settings = settings
        self.registry = registry
        self.name = settings.model
        self.version = version
        self._hf: HFModel | None = None
        self._resolved: ResolvedModel | None = None
        self._lock = threading.Lock()

    @property
    def resolved(self) -> ResolvedModel:
        if self._resolved is None:
            self._resolved = self.registry.resolve(self.name)
        return self._resolved

    @property
    def cache_dir(self) -> Path:
        """Where dense checkpoints are cached (keyed by the GGUF's sha256)."""
        return Path(self.settings.hf_cache_dir or self.registry.settings.models_path / "hf")

    def ref(self) -> ModelRef:
        return ModelRef(name=self.name, backend="transformers", sha256=self.resolved.sha256, version=self.version)

    def warm_up(self) -> HFModel:
        """Verify the GGUF's sha256 and load it (from the cached dense checkpoint when there is one)."""
        if self._hf is not None:
            return self._hf
        with self._lock:
            if self._hf is None:
                if self.settings.threads:
                    import torch

                    torch.set_num_threads(self.settings.threads)
                resolved = self.resolved
                self._hf = load_hf_model(resolved.path, self.settings.device, sha256=resolved.sha256, cache_dir=self.cache_dir)
                log.info("generator %s loaded with transformers on %s", self.name, self._hf.device)
        return self._hf

    def count_tokens(self, text: str) -> int:
        return len(self.warm_up().tokenizer.encode(text, add_special_tokens=False))

    def generate(
        self, messages: list[dict], max_tokens: int, stop: list[str] | None = None, on_token: OnToken | None = None
    ) -> Generation:
        """One completion (greedy at temperature 0), streamed to `on_token`.

        `prompt_ms` is the time to the first piece (prefill plus one decoding step), `decode_ms` the rest.
        """
        hf = self.warm_up()
        with self._lock:  # one generation at a time on one model
            return self._generate(hf, messages, max_tokens, stop, on_token)

    def _generate(self, hf: HFModel, messages, max_tokens, stop, on_token) -> Generation:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        tok = hf.tokenizer
        chat = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        # return_dict=True gives a BatchEncoding; transformers declares one union return type for every flag
        inputs = chat.to(hf.device)  # type: ignore[union-attr]
        n_prompt = int(inputs["input_ids"].shape[1])
        halt = threading.Event()

        class Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), halt.is_set(), dtype=torch.bool, device=input_ids.device)

        timeout = self.settings.timeout_s
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True, timeout=timeout)
        sampling = self.settings.temperature > 0
        options = dict(
            max_new_tokens=max_tokens,
            streamer=streamer,
            do_sample=sampling,
            stopping_criteria=StoppingCriteriaList([Halt()]),
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        )
        if sampling:
            options["temperature"] = self.settings.temperature
            torch.manual_seed(0)
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        result: dict = {}

        def run():
            try:
                with torch.inference_mode():
                    result["out"] = hf.model.generate(**inputs, **options)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                result["error"] = exc
                streamer.end()

        thread = threading.Thread(target=run, name="hf-generate", daemon=True)
        out = Stream(on_token)
        stops = StopText(stop)
        thread.start()
        try:
            for text in streamer:
                if out.elapsed_s() > timeout:
                    raise GeneratorTimeout(f"generation with {self.name} took longer than {timeout:g} s")
                out.add(stops.feed(text))
                if stops.done:
                    break
            out.add(stops.flush())
        except queue.Empty as exc:
            raise GeneratorTimeout(f"{self.name} produced nothing for {timeout:g} s") from exc
        finally:
            halt.set()
            thread.join()
        if "error" in result:
            raise result["error"]
        n_out = int(result["out"].shape[1]) - n_prompt if "out" in result else 0
        return out.done(prompt_tokens=n_prompt, completion_tokens=n_out)


class StopText:
    """Cuts streamed text at the first stop string, holding back a tail that may be the start of one."""

    def __init__(self, stop: list[str] | None):
        self.stop = [s for s in stop or [] if s]
        self.buf = ""
        self.done = False

    def feed(self, piece: str) -> str:
        """The part of the text so far that is safe to emit (never any of a stop string)."""
        if self.done:
            return ""
        self.buf += piece
        found = [i for i in (self.buf.find(s) for s in self.stop) if i >= 0]
        if found:
            out, self.buf, self.done = self.buf[: min(found)], "", True
            return out
        keep = max(
            (k for s in self.stop for k in range(1, min(len(s) - 1, len(self.buf)) + 1) if self.buf.endswith(s[:k])), default=0
        )
        out, self.buf = self.buf[: len(self.buf) - keep], self.buf[len(self.buf) - keep :]
        return out

    def flush(self) -> str:
        """What was held back, at the end of the stream (it did not become a stop string)."""
        out, self.buf = self.buf, ""
        return out
