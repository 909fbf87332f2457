"""A PEFT LoRA adapter converted to a GGUF LoRA adapter that llama.cpp applies on top of its base GGUF.

What `peft` writes (`adapter_config.json` + `adapter_model.safetensors`) becomes the file llama.cpp's own
`convert_lora_to_gguf.py` would write, without a llama.cpp checkout: `general.type=adapter`,
`adapter.type=lora`, `adapter.lora.alpha`, the base's `general.architecture`, and for every adapted weight
`<gguf name>.lora_a` (PEFT's lora_A, rank x in) and `<gguf name>.lora_b` (PEFT's lora_B, out x rank), named
with gguf-py's tensor map (`model.layers.3.self_attn.q_proj` -> `blk.3.attn_q.weight`).

llama.cpp scales each pair by `alpha / rank` (rank read from the tensor), PEFT by `lora_alpha / r`. Where
PEFT's scale differs (rsLoRA's `alpha / sqrt(r)`, a per-module `alpha_pattern`), the difference is folded
into lora_b so both apply the same update. Every pair is checked against the base GGUF's tensor shapes
before anything is written, so an adapter for another base is refused here rather than at load time.

numpy, torch, safetensors and gguf are imported only when an adapter is exported.
"""

import importlib.metadata
import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.core.errors import BadInput, MissingExtra
from rag.core.hashing import sha256_file

log = logging.getLogger(__name__)

# the linear layers of a Qwen2 block an adapter may change (attention and MLP projections)
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
OUTTYPES = ("f32", "f16")


@dataclass
class LoraExport:
    """What `export_lora` wrote: the GGUF adapter, its sha256 and what it holds."""

    path: Path
    sha256: str
    arch: str
    alpha: float
    ranks: list[int]
    modules: list[str]  # the adapted projections (q_proj, ...)
    pairs: int  # lora_a/lora_b pairs (adapted weights)
    outtype: str
    folded: dict[str, float] = field(default_factory=dict)  # module -> factor folded into lora_b (rsLoRA, alpha_pattern)

    def as_dict(self) -> dict:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "arch": self.arch,
            "alpha": self.alpha,
            "ranks": self.ranks,
            "modules": self.modules,
            "pairs": self.pairs,
            "outtype": self.outtype,
            "folded": self.folded,
        }


def read_adapter_config(adapter_dir: Path) -> dict:
    """The adapter's `adapter_config.json`, refusing what llama.cpp cannot apply as a plain LoRA."""
    path = Path(adapter_dir) / "adapter_config.json"
    try:
        config = json.loads(path.read_text())
    except OSError as exc:
        raise BadInput(f"no PEFT adapter at {adapter_dir}: {path.name} is missing") from exc
    except ValueError as exc:
        raise BadInput(f"{path} is not valid JSON: {exc}") from exc
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        raise BadInput(f"{path}: peft_type {config.get('peft_type')!r}, only LORA adapters can be exported")
    refused = {
        "use_dora": "DoRA",
        "fan_in_fan_out": "fan_in_fan_out weights",
        "lora_bias": "LoRA biases",
        "modules_to_save": "fully trained modules (modules_to_save)",
        "trainable_token_indices": "trained token embeddings",
    }
    for key, what in refused.items():
        if config.get(key):
            raise BadInput(f"{path}: {what} cannot be applied by llama.cpp as a LoRA adapter")
    if config.get("bias", "none") != "none":
        raise BadInput(f"{path}: bias={config['bias']!r}; llama.cpp LoRA adapters carry no biases (train with bias='none')")
    if not config.get("lora_alpha"):
        raise BadInput(f"{path}: lora_alpha is missing")
    return config


def _weights_file(adapter_dir: Path) -> Path:
    path = Path(adapter_dir) / "adapter_model.safetensors"
    if not path.is_file():
        raise BadInput(f"no adapter weights at {path} (save the adapter with safetensors, peft's default)")
    return path


def _peft_scale(config: dict, module: str, rank: int) -> float:
    """The scale PEFT applies to `module`'s lora_B @ lora_A: alpha / r (or alpha / sqrt(r) with rsLoRA)."""
    alpha = float(config["lora_alpha"])
    for pattern, value in (config.get("alpha_pattern") or {}).items():
        if re.match(rf"(.*\.)?({pattern})$", module):
            alpha = float(value)
            break
    return alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank


def _pairs(tensors: dict) -> dict[str, dict]:
    """`model.layers.N.<...>.<proj>` -> {"A": tensor, "B": tensor} from PEFT's tensor names."""
    pairs: dict[str, dict] = {}
    for name, tensor in tensors.items():
        m = re.fullmatch(r"(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.default)?\.weight", name)
        if not m:
            raise BadInput(f"unexpected tensor {name!r} in the adapter: only lora_A/lora_B weights can be exported")
        module = m[1]
        if module.rsplit(".", 1)[-1] not in TARGET_MODULES:
            raise BadInput(f"the adapter changes {module!r}; only {', '.join(TARGET_MODULES)} can be exported")
        pairs.setdefault(module, {})[m[2]] = tensor
    for module, pair in pairs.items():
        if set(pair) != {"A", "B"}:
            raise BadInput(f"{module}: lora_A or lora_B is missing")
    return pairs


def read_base_shapes(base_gguf: Path) -> tuple[str, int, dict[str, tuple[int, ...]]]:
    """(architecture, block count, tensor name -> ggml shape `ne`) of a GGUF model."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))
    arch = reader.fields["general.architecture"].contents()
    if reader.fields.get("general.type") is not None and reader.fields["general.type"].contents() == "adapter":
        raise BadInput(f"{base_gguf} is an adapter, not a base model")
    blocks = int(reader.fields[f"{arch}.block_count"].contents())
    return arch, blocks, {t.name: tuple(int(n) for n in t.shape) for t in reader.tensors}


def export_lora(adapter_dir: Path, base_gguf: Path, out: Path, outtype: str = "f32", name: str | None = None) -> LoraExport:
    """Convert the PEFT adapter in `adapter_dir` (trained on the model in `base_gguf`) into a GGUF adapter at `out`.

    `outtype` is f32 (exact, what llama.cpp's converter writes by default) or f16 (half the size). The file
    appears at `out` complete or not at all (written beside it, then renamed); the same adapter always gives
    the same bytes (no timestamps), hence the same sha256.
    """
    try:
        import gguf
        import numpy as np
        import torch  # noqa: F401 - safetensors.torch needs it (bf16 adapters)
        from safetensors.torch import load_file
    except ImportError as exc:
        raise MissingExtra(
            f"exporting an adapter needs torch, safetensors and gguf: pip install 'grounded-rag[hf]' ({exc.name} is missing)"
        ) from exc
    if outtype not in OUTTYPES:
        raise BadInput(f"outtype {outtype!r}: choose one of {', '.join(OUTTYPES)}")
    adapter_dir, out = Path(adapter_dir), Path(out)
    config = read_adapter_config(adapter_dir)
    pairs = _pairs(load_file(str(_weights_file(adapter_dir)), device="cpu"))
    if not pairs:
        raise BadInput(f"the adapter in {adapter_dir} holds no LoRA weights")
    arch, blocks, shapes = read_base_shapes(base_gguf)
    try:
        names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], blocks)
    except KeyError as exc:
        raise BadInput(f"base architecture {arch!r} is unknown to gguf {importlib.metadata.version('gguf')}") from exc
    alpha = float(config["lora_alpha"])
    dtype = np.float32 if outtype == "f32" else np.float16
    tensors: list[tuple[str, object]] = []
    ranks, modules, folded = set(), set(), {}
    for module in sorted(pairs, key=_layer_order):
        a = pairs[module]["A"].float().numpy()  # (rank, in)
        b = pairs[module]["B"].float().numpy()  # (out, rank)
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None or target not in shapes:
            raise BadInput(f"{module}: no matching weight in the base model {Path(base_gguf).name}")
        rank = a.shape[0]
        base_in, base_out = shapes[target][0], shapes[target][1]  # ggml ne: [in, out]
        if a.ndim != 2 or b.ndim != 2 or b.shape[1] != rank or a.shape[1] != base_in or b.shape[0] != base_out:
            raise BadInput(
                f"{module}: lora_A {tuple(a.shape)} / lora_B {tuple(b.shape)} do not fit {target} "
                f"({base_out} x {base_in}) of {Path(base_gguf).name}: an adapter for another base model?"
            )
        factor = _peft_scale(config, module, rank) / (alpha / rank)
        if not math.isclose(factor, 1.0, rel_tol=1e-6):
            b = b * factor
            folded[module.rsplit(".", 1)[-1]] = round(factor, 6)
        tensors.append((target + ".lora_a", np.ascontiguousarray(a, dtype=dtype)))
        tensors.append((target + ".lora_b", np.ascontiguousarray(b, dtype=dtype)))
        ranks.add(rank)
        modules.add(module.rsplit(".", 1)[-1])
    _write(out, arch, alpha, tensors, outtype, name or adapter_dir.name)
    result = LoraExport(
        path=out,
        sha256=sha256_file(out),
        arch=arch,
        alpha=alpha,
        ranks=sorted(ranks),
        modules=[m for m in TARGET_MODULES if m in modules],
        pairs=len(pairs),
        outtype=outtype,
        folded=folded,
    )
    log.info("exported %d LoRA pairs (rank %s) to %s", result.pairs, result.ranks, out)
    return result


def _layer_order(module: str) -> tuple:
    m = re.search(r"\.layers\.(\d+)\.", module)
    return (int(m[1]) if m else -1, module)


def _write(out: Path, arch: str, alpha: float, tensors: list, outtype: str, name: str) -> None:
    """The GGUF adapter file, written beside `out` and renamed into place."""
    import gguf

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    writer = gguf.GGUFWriter(str(tmp), arch)
    try:
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        writer.add_name(name)
        writer.add_file_type(gguf.LlamaFileType.ALL_F32 if outtype == "f32" else gguf.LlamaFileType.MOSTLY_F16)
        for tensor_name, data in tensors:
            writer.add_tensor(tensor_name, data)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        writer.close()
        tmp.unlink(missing_ok=True)
