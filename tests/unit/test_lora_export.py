"""PEFT adapter -> GGUF adapter on a tiny fake qwen2 base (a real GGUF file of a few tensors, no model):
names, orientation, alpha and scale folding, and what is refused."""

import json
import math

import numpy as np
import pytest

gguf = pytest.importorskip("gguf", reason="the export needs gguf: pip install 'grounded-rag[hf]'")
torch = pytest.importorskip("torch")

from safetensors.torch import save_file  # noqa: E402

from rag.core.errors import BadInput  # noqa: E402
from rag.models.lora_export import export_lora  # noqa: E402

HIDDEN, KV, FFN, BLOCKS = 16, 4, 24, 2
# HF module -> (out, in) of its weight in the fake base
SHAPES = {
    "self_attn.q_proj": (HIDDEN, HIDDEN),
    "self_attn.k_proj": (KV, HIDDEN),
    "self_attn.v_proj": (KV, HIDDEN),
    "self_attn.o_proj": (HIDDEN, HIDDEN),
    "mlp.gate_proj": (FFN, HIDDEN),
    "mlp.up_proj": (FFN, HIDDEN),
    "mlp.down_proj": (HIDDEN, FFN),
}
GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A GGUF "model" with qwen2's tensor names and shapes scaled down."""
    path = tmp_path_factory.mktemp("base") / "tiny-qwen2.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_block_count(BLOCKS)
    for b in range(BLOCKS):
        for module, (out, inp) in SHAPES.items():
            writer.add_tensor(f"blk.{b}.{GGUF_NAMES[module]}.weight", np.zeros((out, inp), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def make_adapter(folder, rank=4, alpha=8, modules=("self_attn.q_proj", "mlp.down_proj"), shapes=SHAPES, seed=0, **config):
    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for b in range(BLOCKS):
        for module in modules:
            out, inp = shapes[module]
            r = config.get("rank_pattern", {}).get(module.split(".")[-1], rank)
            prefix = f"base_model.model.model.layers.{b}.{module}"
            tensors[f"{prefix}.lora_A.weight"] = torch.randn(r, inp, generator=gen)
            tensors[f"{prefix}.lora_B.weight"] = torch.randn(out, r, generator=gen)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    cfg = {
        "peft_type": "LORA",
        "r": rank,
        "lora_alpha": alpha,
        "bias": "none",
        "use_dora": False,
        "target_modules": [m.split(".")[-1] for m in modules],
        **config,
    }
    (folder / "adapter_config.json").write_text(json.dumps(cfg))
    return tensors


def read(path):
    reader = gguf.GGUFReader(str(path))
    fields = {
        k: reader.fields[k].contents() for k in ("general.type", "general.architecture", "adapter.type", "adapter.lora.alpha")
    }
    return fields, {t.name: t for t in reader.tensors}


def test_every_pair_is_written_with_llama_cpp_names_orientation_and_alpha(tmp_path, base):
    modules = tuple(SHAPES)
    tensors = make_adapter(tmp_path / "adapter", rank=4, alpha=8, modules=modules)
    result = export_lora(tmp_path / "adapter", base, tmp_path / "out.gguf")
    fields, written = read(tmp_path / "out.gguf")
    assert fields == {
        "general.type": "adapter",
        "general.architecture": "qwen2",
        "adapter.type": "lora",
        "adapter.lora.alpha": 8.0,
    }
    assert (result.pairs, result.ranks, result.alpha, result.folded) == (BLOCKS * 7, [4], 8.0, {})
    assert result.modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert len(written) == BLOCKS * 7 * 2
    for b in range(BLOCKS):
        for module, (out, inp) in SHAPES.items():
            name = f"blk.{b}.{GGUF_NAMES[module]}.weight"
            a, bb = written[name + ".lora_a"], written[name + ".lora_b"]
            # ggml order (ne): lora_a [in, rank] and lora_b [rank, out], what llama.cpp checks against [in, out]
            assert list(a.shape) == [inp, 4] and list(bb.shape) == [4, out]
            prefix = f"base_model.model.model.layers.{b}.{module}"
            assert np.array_equal(np.asarray(a.data), tensors[f"{prefix}.lora_A.weight"].numpy())
            assert np.array_equal(np.asarray(bb.data), tensors[f"{prefix}.lora_B.weight"].numpy())


def test_the_same_adapter_gives_the_same_file(tmp_path, base):
    make_adapter(tmp_path / "adapter")
    first = export_lora(tmp_path / "adapter", base, tmp_path / "one.gguf")
    second = export_lora(tmp_path / "adapter", base, tmp_path / "two.gguf")
    assert first.sha256 == second.sha256 and not list(tmp_path.glob(".*partial*"))


def test_rslora_and_alpha_pattern_are_folded_into_lora_b(tmp_path, base):
    tensors = make_adapter(
        tmp_path / "adapter", rank=4, alpha=8, use_rslora=True, alpha_pattern={"down_proj": 32}, rank_pattern={"down_proj": 2}
    )
    result = export_lora(tmp_path / "adapter", base, tmp_path / "out.gguf")
    _, written = read(tmp_path / "out.gguf")
    # llama.cpp applies alpha / rank with the file's alpha (8); PEFT applied alpha / sqrt(r) per module
    q_factor = (8 / math.sqrt(4)) / (8 / 4)
    down_factor = (32 / math.sqrt(2)) / (8 / 2)
    assert result.folded == {"q_proj": pytest.approx(q_factor), "down_proj": pytest.approx(down_factor, rel=1e-5)}
    assert result.ranks == [2, 4]
    got = np.asarray(written["blk.1.ffn_down.weight.lora_b"].data)
    want = tensors["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"].numpy() * down_factor
    assert np.allclose(got, want, rtol=1e-6)


def test_f16_halves_the_tensors(tmp_path, base):
    make_adapter(tmp_path / "adapter")
    f32 = export_lora(tmp_path / "adapter", base, tmp_path / "f32.gguf")
    f16 = export_lora(tmp_path / "adapter", base, tmp_path / "f16.gguf", outtype="f16")
    _, written = read(f16.path)
    assert {t.tensor_type.name for t in written.values()} == {"F16"}
    assert f16.path.stat().st_size < f32.path.stat().st_size


def test_an_adapter_for_another_base_is_refused(tmp_path, base):
    bigger = dict(SHAPES, **{"self_attn.q_proj": (HIDDEN * 2, HIDDEN * 2)})
    make_adapter(tmp_path / "adapter", shapes=bigger)
    with pytest.raises(BadInput, match="another base model"):
        export_lora(tmp_path / "adapter", base, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


@pytest.mark.parametrize(
    "config, message",
    [
        ({"use_dora": True}, "DoRA"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
        ({"bias": "all"}, "bias"),
        ({"peft_type": "IA3"}, "only LORA"),
    ],
)
def test_what_llama_cpp_cannot_apply_is_refused(tmp_path, base, config, message):
    make_adapter(tmp_path / "adapter", **config)
    with pytest.raises(BadInput, match=message):
        export_lora(tmp_path / "adapter", base, tmp_path / "out.gguf")


def test_other_modules_and_missing_files_are_refused(tmp_path, base):
    make_adapter(tmp_path / "adapter", modules=("self_attn.q_proj",))
    from safetensors.torch import load_file

    tensors = load_file(str(tmp_path / "adapter" / "adapter_model.safetensors"))
    tensors["base_model.model.lm_head.lora_A.weight"] = torch.zeros(4, HIDDEN)
    tensors["base_model.model.lm_head.lora_B.weight"] = torch.zeros(100, 4)
    save_file(tensors, str(tmp_path / "adapter" / "adapter_model.safetensors"))
    with pytest.raises(BadInput, match="lm_head"):
        export_lora(tmp_path / "adapter", base, tmp_path / "out.gguf")
    with pytest.raises(BadInput, match="adapter_config.json is missing"):
        export_lora(tmp_path / "nothing", base, tmp_path / "out.gguf")
