"""A real PEFT LoRA adapter on the packaged 0.5B (dense checkpoint cached under <models dir>/hf), with
transformers' own logits and greedy text for one prompt, base and adapted, to hold llama.cpp against."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
PROMPT = [{"role": "user", "content": "Name the largest planet of the solar system."}]
CONTINUATION = 10  # greedy tokens compared


@dataclass
class PeftAdapter:
    path: Path  # the adapter folder peft wrote (adapter_config.json + adapter_model.safetensors)
    prompt_ids: list[int]  # PROMPT through the GGUF's chat template
    base_logits: np.ndarray  # next-token logits after the prompt, transformers, adapter disabled
    tuned_logits: np.ndarray  # the same with the adapter
    base_ids: list[int]  # greedy continuation, adapter disabled
    tuned_ids: list[int]  # greedy continuation with the adapter
    decode: object  # token ids -> text


def make_peft_adapter(
    out: Path, models_dir: Path, model: str, seed: int = 0, std: float = 0.02, rank: int = 8, alpha: int = 16
) -> PeftAdapter:
    """Wrap the dense `model` with a fresh LoRA on every projection, set lora_B to N(0, std) (large, so the
    effect shows: a trained adapter starts at lora_B = 0), save it with peft, and record transformers' outputs."""
    import torch
    from peft import LoraConfig, get_peft_model

    from rag.core.settings import Settings
    from rag.generation.hf_model import load_hf_model
    from rag.models.registry import ModelRegistry

    resolved = ModelRegistry(Settings(models_dir=models_dir)).resolve(model)
    hf = load_hf_model(resolved.path, "cpu", sha256=resolved.sha256, cache_dir=Path(models_dir) / "hf")
    torch.manual_seed(seed)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=TARGETS, bias="none", task_type="CAUSAL_LM")
    peft_model = get_peft_model(hf.model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, std)
    peft_model.save_pretrained(out)
    ids = hf.tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_dict=True)["input_ids"]
    x = torch.tensor([list(ids)])
    options = dict(
        max_new_tokens=CONTINUATION,
        do_sample=False,
        temperature=None,
        top_p=None,
        top_k=None,
        pad_token_id=hf.tokenizer.eos_token_id,
    )
    with torch.inference_mode():
        tuned = peft_model(x).logits[0, -1].float().numpy()
        tuned_ids = peft_model.generate(input_ids=x, **options)[0, x.shape[1] :].tolist()
        with peft_model.disable_adapter():
            base = peft_model(x).logits[0, -1].float().numpy()
            base_ids = peft_model.generate(input_ids=x, **options)[0, x.shape[1] :].tolist()
    tokenizer = hf.tokenizer
    return PeftAdapter(
        path=Path(out),
        prompt_ids=list(ids),
        base_logits=base,
        tuned_logits=tuned,
        base_ids=base_ids,
        tuned_ids=tuned_ids,
        decode=lambda t: tokenizer.decode(t, skip_special_tokens=True),
    )
