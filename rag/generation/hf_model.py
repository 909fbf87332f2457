"""A pinned GGUF as a transformers model: dequantised once, optionally cached as a normal checkpoint.

Used by the transformers generator and meant for fine-tuning too: `load_hf_model` turns the verified
GGUF (weights and tokenizer, chat template included) into a dense `AutoModelForCausalLM`. Given a cache
directory and the GGUF's sha256, the dense model is saved there as an ordinary safetensors checkpoint
(`<cache>/<sha256[:16]>/`, with `source.json` naming the GGUF) the first time, and later loads read that
checkpoint instead of dequantising again. The checkpoint is derived data: answers still report the GGUF's
sha256, which the registry verifies before anything is loaded.

torch, transformers, gguf and accelerate are imported only when a model is loaded.
"""

import importlib.util
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.core.errors import MissingExtra, ModelError

if TYPE_CHECKING:  # imported only when a model is loaded
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

HF_EXTRA = "pip install 'grounded-rag[hf]'  (transformers, gguf, accelerate)"
_NEEDED = {"torch": "torch", "transformers": "transformers", "gguf": "gguf", "accelerate": "accelerate"}
_DONE = "source.json"  # written last: a checkpoint directory without it is incomplete


def check_hf_extra() -> None:
    """Raise MissingExtra naming what to install when a package the transformers backend needs is absent."""
    missing = [pkg for module, pkg in _NEEDED.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtra(f"the transformers backend needs {', '.join(missing)}: {HF_EXTRA}")


def pick_device(device: str = "auto") -> str:
    """ "cuda" when asked for or (auto) available, else "cpu"."""
    import torch

    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MissingExtra(f"device {device!r} asked for, but torch sees no CUDA GPU (CPU build or no driver)")
    return device


def default_dtype(device: str):
    """float32 on CPU; bfloat16 on a GPU that supports it, else float16."""
    import torch

    if not device.startswith("cuda"):
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@dataclass
class HFModel:
    model: "PreTrainedModel"  # in eval mode, on `device`
    tokenizer: "PreTrainedTokenizerBase"  # with the GGUF's chat template
    device: str
    gguf: Path
    checkpoint: Path | None  # the cached dense checkpoint, when one was written or read


def checkpoint_dir(cache_dir: Path, sha256: str) -> Path:
    """Where the dense checkpoint of the GGUF with this sha256 lives."""
    return Path(cache_dir) / sha256[:16]


def load_hf_model(
    gguf_path: Path, device: str = "auto", dtype=None, sha256: str | None = None, cache_dir: Path | None = None
) -> HFModel:
    """The GGUF at `gguf_path` as a dense transformers model and its tokenizer, on `device`.

    With `cache_dir` and `sha256` (the verified hash of the GGUF), a complete cached checkpoint is loaded
    instead of dequantising, and one is written after dequantising when none exists.
    """
    check_hf_extra()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path)
    device = pick_device(device)
    dtype = dtype or default_dtype(device)
    cached = checkpoint_dir(cache_dir, sha256) if cache_dir and sha256 else None
    t0 = time.perf_counter()
    if cached is not None and (cached / _DONE).is_file():
        tokenizer = AutoTokenizer.from_pretrained(cached)
        model = AutoModelForCausalLM.from_pretrained(cached, dtype=dtype)
        log.info("loaded the dense checkpoint %s in %.1f s", cached, time.perf_counter() - t0)
    else:
        tokenizer, model = _from_gguf(gguf_path, dtype)
        log.info("dequantised %s in %.1f s", gguf_path.name, time.perf_counter() - t0)
        if cached is not None and sha256:  # `cached` is only set with a sha256
            save_checkpoint(model, tokenizer, cached, gguf_path, sha256)
    model.to(device)  # type: ignore[arg-type]  # typeshed's functools.wraps (on PreTrainedModel.to) does not bind self
    model.eval()
    return HFModel(model=model, tokenizer=tokenizer, device=device, gguf=gguf_path, checkpoint=cached)


def _from_gguf(gguf_path: Path, dtype):
    """Tokenizer and dense model read from one GGUF file (every weight dequantised to `dtype`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {}
    try:  # newer transformers can keep GGUF weights packed; ask for a plain dense model
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:
        pass
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype, **kwargs)
    _drop_gguf_quantizer(model)
    return tokenizer, model


def _drop_gguf_quantizer(model) -> None:
    """Forget that the weights came from a GGUF, so the model saves and trains as an ordinary one."""
    packed = [n for n, m in model.named_modules() if type(m).__name__.lower().startswith("gguf")]
    if packed:
        raise ModelError(f"GGUF weights were left packed in {len(packed)} modules (e.g. {packed[0]})")
    model.hf_quantizer = None
    for attr in ("is_quantized", "quantization_method"):
        if hasattr(model, attr):
            try:
                setattr(model, attr, None if attr == "quantization_method" else False)
            except AttributeError:
                pass
    for config in (model.config, getattr(model.config, "text_config", None)):
        if config is not None and hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")


def save_checkpoint(model, tokenizer, out_dir: Path, gguf_path: Path, sha256: str) -> Path:
    """Write `model` and `tokenizer` as a safetensors checkpoint at `out_dir`, atomically (temp dir, rename).

    `source.json` records the GGUF it came from (name and sha256); it is written last.
    """
    import transformers

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + f".partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    source = {"gguf": Path(gguf_path).name, "sha256": sha256, "transformers": transformers.__version__}
    (tmp / _DONE).write_text(json.dumps(source, indent=1))
    if out_dir.exists():  # another process finished first, or an incomplete leftover
        if (out_dir / _DONE).is_file():
            shutil.rmtree(tmp)
            return out_dir
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    log.info("saved the dense checkpoint of %s at %s", Path(gguf_path).name, out_dir)
    return out_dir
