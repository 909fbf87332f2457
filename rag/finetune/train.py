"""LoRA training of the answer model: `rag finetune train`.

The pinned GGUF is loaded into transformers (dequantised once, cached as an ordinary checkpoint by
`rag.generation.hf_model.load_hf_model`), wrapped with a peft LoRA adapter, and trained on the examples of
`rag finetune data`: each example's messages go through the model's own chat template (the one llama.cpp
applies when serving), and the loss is taken only on the answer tokens (the target and the end-of-turn
token). Only the logits of those positions are computed, which on CPU saves a third of each step.

Checkpoints (adapter, optimizer, scheduler, position in the data, losses) are written every `save_every`
optimizer steps to `<out>/checkpoints/step-N/` (temp dir, then rename; `state.json` last); a later run with
the same output folder continues from the newest complete one. The result is `<out>/adapter/` (peft format)
and `<out>/train_report.json` (base model and hash, data card, settings, loss curve, validation loss before
and after, time, peak memory).
"""

import json
import logging
import math
import os
import random
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.core.errors import BadInput
from rag.core.hashing import sha256_file
from rag.core.settings import Settings
from rag.models.registry import ModelRegistry

log = logging.getLogger(__name__)

STATE = "state.json"  # written last in a checkpoint folder: a folder without it is incomplete


@dataclass
class TrainConfig:
    base: str = "qwen2.5-coder-0.5b-instruct-q4_k_m"
    epochs: float = 1.0
    lr: float = 2e-4
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    accumulate: int = 4  # examples per optimizer step
    max_tokens: int = 1280  # longer examples are skipped (counted in the report)
    warmup: float = 0.1  # share of the steps with a rising learning rate
    eval_every: int = 20  # optimizer steps between validation losses
    save_every: int = 10  # optimizer steps between checkpoints
    max_val: int = 40  # validation examples scored each time
    max_steps: int = 0  # stop after this many optimizer steps (0: the epochs decide)
    seed: int = 0
    device: str = "auto"


@dataclass
class Encoded:
    ids: list[int]
    n_answer: int  # the last n_answer ids are the answer (target + end of turn)


def read_examples(path: Path) -> list[dict]:
    if not Path(path).is_file():
        raise BadInput(f"no training data at {path}: run `rag finetune data` first")
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for n, r in enumerate(rows, 1):
        if not isinstance(r.get("messages"), list) or not isinstance(r.get("target"), str):
            raise BadInput(f"{path}:{n}: an example needs 'messages' (a list) and 'target' (text)")
    return rows


def encode(tokenizer, messages: list[dict], target: str) -> Encoded:
    """Token ids of the chat prompt (the template's generation prompt included) followed by the answer and the
    end-of-turn token; only the answer part is trained on."""
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    end = "<|im_end|>" if "<|im_end|>" in tokenizer.get_vocab() else (tokenizer.eos_token or "")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(target.strip() + end, add_special_tokens=False)["input_ids"]
    return Encoded(ids=prompt_ids + answer_ids, n_answer=len(answer_ids))


def answer_loss(model, item: Encoded, device: str):
    """Mean cross-entropy over the answer tokens (logits computed for those positions only)."""
    import torch
    import torch.nn.functional as F

    ids = torch.tensor([item.ids], device=device)
    out = model(input_ids=ids, logits_to_keep=item.n_answer + 1)
    logits = out.logits[0, :-1].float()
    labels = ids[0, -item.n_answer :]
    return F.cross_entropy(logits, labels)


def mean_loss(model, items: list[Encoded], device: str) -> float:
    import torch

    if not items:
        return float("nan")
    model.eval()
    with torch.no_grad():
        total = sum(float(answer_loss(model, it, device)) for it in items)
    model.train()
    return round(total / len(items), 4)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


Progress = Callable[[dict], None]


class Trainer:
    """One LoRA training run into `out`, resumable from its newest complete checkpoint."""

    def __init__(self, settings: Settings, data_dir: Path, out: Path, cfg: TrainConfig | None = None):
        self.settings, self.data_dir, self.out = settings, Path(data_dir), Path(out)
        self.cfg = cfg or TrainConfig()

    # ---- loading ----------------------------------------------------------------------------------
    def load(self):
        """The base model with a fresh LoRA adapter, and its tokenizer."""
        import torch
        from peft import LoraConfig, get_peft_model

        from rag.generation.hf_model import load_hf_model

        registry = ModelRegistry(self.settings)
        self.base = registry.resolve(self.cfg.base)
        if self.base.entry.get("kind") != "generator":
            raise BadInput(f"{self.cfg.base!r} is not a generator model")
        cache = self.settings.generator.hf_cache_dir or self.settings.models_path / "hf"
        torch.manual_seed(self.cfg.seed)
        hf = load_hf_model(self.base.path, device=self.cfg.device, sha256=self.base.sha256, cache_dir=cache)
        lora = LoraConfig(
            r=self.cfg.rank,
            lora_alpha=self.cfg.alpha,
            lora_dropout=self.cfg.dropout,
            target_modules=list(self.cfg.targets),
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(hf.model, lora)
        self.tokenizer, self.device = hf.tokenizer, hf.device
        return self.model

    def encoded(self, split: str) -> tuple[list[Encoded], int]:
        """The split's examples as token ids, and how many were skipped as too long."""
        rows = read_examples(self.data_dir / f"{split}.jsonl")
        items = [encode(self.tokenizer, r["messages"], r["target"]) for r in rows]
        kept = [it for it in items if len(it.ids) <= self.cfg.max_tokens]
        return kept, len(items) - len(kept)

    # ---- checkpoints ------------------------------------------------------------------------------
    def latest_checkpoint(self) -> Path | None:
        folder = self.out / "checkpoints"
        done = [p for p in folder.glob("step-*") if (p / STATE).is_file()] if folder.is_dir() else []
        return max(done, key=lambda p: int(p.name.split("-")[1]), default=None)

    def save_checkpoint(self, state: dict, optimizer, scheduler) -> Path:
        import torch

        final = self.out / "checkpoints" / f"step-{state['step']}"
        tmp = final.with_name(final.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self.model.save_pretrained(tmp)
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optim.pt")
        (tmp / STATE).write_text(json.dumps(state, indent=1))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in sorted(final.parent.glob("step-*"), key=lambda p: int(p.name.split("-")[1].split(".")[0]))[:-2]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def restore(self, checkpoint: Path, optimizer, scheduler) -> dict:
        import torch
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(self.model, load_file(str(checkpoint / "adapter_model.safetensors")))
        saved = torch.load(checkpoint / "optim.pt", weights_only=False)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        return json.loads((checkpoint / STATE).read_text())

    # ---- the run ----------------------------------------------------------------------------------
    def run(self, progress: Progress | None = None) -> dict:
        """Train (or continue training), write the adapter and the report, return the report."""
        import torch

        t0 = time.perf_counter()
        cfg = self.cfg
        self.load()
        train, skipped = self.encoded("train")
        val, _ = self.encoded("val") if (self.data_dir / "val.jsonl").is_file() else ([], 0)
        if not train:
            raise BadInput(f"no training examples in {self.data_dir / 'train.jsonl'}")
        val = val[: cfg.max_val]
        per_epoch = math.ceil(len(train) / cfg.accumulate)
        total = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs))
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
        warm = max(1, int(cfg.warmup * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up, then linear decay to 0
            optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm))
        )
        state: dict[str, Any] = {"step": 0, "losses": [], "val": [], "tokens": 0, "seconds": 0.0}  # as state.json holds it
        checkpoint = self.latest_checkpoint()
        if checkpoint is not None:
            state = self.restore(checkpoint, optimizer, scheduler)
            log.info("resuming from %s (step %d of %d)", checkpoint, state["step"], total)
        elif val:
            state["val"].append({"step": 0, "loss": mean_loss(self.model, val, self.device)})
        order = self._order(len(train), total * cfg.accumulate)
        self.model.train()
        started = time.perf_counter()
        while state["step"] < total:
            batch = order[state["step"] * cfg.accumulate : (state["step"] + 1) * cfg.accumulate]
            loss_sum = 0.0
            for i in batch:
                loss = answer_loss(self.model, train[i], self.device) / len(batch)
                loss.backward()
                loss_sum += loss.detach().item()
                state["tokens"] += len(train[i].ids)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            state["losses"].append(round(loss_sum, 4))
            last = state["step"] == total
            if val and (state["step"] % cfg.eval_every == 0 or last):
                state["val"].append({"step": state["step"], "loss": mean_loss(self.model, val, self.device)})
            elapsed = state["seconds"] + time.perf_counter() - started
            if state["step"] % cfg.save_every == 0 or last:
                self.save_checkpoint(dict(state, seconds=round(elapsed, 1)), optimizer, scheduler)
            if progress:
                progress(
                    {
                        "step": state["step"],
                        "total": total,
                        "loss": state["losses"][-1],
                        "val": state["val"][-1]["loss"] if state["val"] else None,
                        "seconds": elapsed,
                    }
                )
        state["seconds"] = round(state["seconds"] + time.perf_counter() - started, 1)
        return self._finish(state, train, skipped, total, t0)

    def _order(self, n: int, needed: int) -> list[int]:
        """Example indices for every step: each epoch a fresh shuffle, fixed by the seed (so a resumed run takes
        the examples an uninterrupted one would)."""
        order: list[int] = []
        epoch = 0
        while len(order) < needed:
            idx = list(range(n))
            random.Random(self.cfg.seed * 1000 + epoch).shuffle(idx)
            order += idx
            epoch += 1
        return order

    def _finish(self, state: dict, train: list[Encoded], skipped: int, total: int, t0: float) -> dict:
        adapter = self.out / "adapter"
        tmp = adapter.with_name("adapter.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save_pretrained(tmp)
        shutil.rmtree(adapter, ignore_errors=True)
        os.replace(tmp, adapter)
        card = self.data_dir / "data_card.json"
        report = {
            "base": {"name": self.cfg.base, "sha256": self.base.sha256},
            "adapter": str(adapter),
            "adapter_sha256": sha256_file(adapter / "adapter_model.safetensors"),
            "data": {
                "dir": str(self.data_dir),
                "train_examples": len(train),
                "skipped_too_long": skipped,
                "data_card_sha256": sha256_file(card) if card.is_file() else None,
            },
            "config": asdict(self.cfg),
            "steps": total,
            "device": self.device,
            "train_loss_first": state["losses"][0] if state["losses"] else None,
            "train_loss_last": state["losses"][-1] if state["losses"] else None,
            "losses": state["losses"],
            "val": state["val"],
            "train_seconds": state["seconds"],
            "total_seconds": round(time.perf_counter() - t0, 1),
            "tokens": state["tokens"],
            "tokens_per_s": round(state["tokens"] / max(state["seconds"], 1e-6), 1),
            "peak_rss_mb": peak_rss_mb(),
        }
        if self.device.startswith("cuda"):
            import torch

            report["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        (self.out / "train_report.json").write_text(json.dumps(report, indent=1))
        return report
