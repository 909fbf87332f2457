"""Training the embedder on pairs made from the corpus (`rag finetune embedder`): the eval report and the ONNX export.

The packaged model (all-MiniLM-L6-v2, resolved and sha256-checked by the registry as the serving embedder does) is
trained with sentence-transformers' `MultipleNegativesRankingLoss`: each question against its chunk, every other
chunk of the batch and every hard negative of the batch. A batch never holds one text twice (a chunk that is one
pair's positive and another's negative would be a false negative). The loop is sentence-transformers' own fit loop
of version 6.2.0, `SentenceTransformer.old_fit` (AdamW, linear warm-up and decay, gradient clipping): its newer
`fit` and `SentenceTransformerTrainer` need the `datasets` package, which this project does not depend on.
CUDA when present (`device="auto"`), else CPU.

Before and after training, the held-out pairs are searched among every chunk as indexed (exact cosine), and
recall@1/@10 of their chunk makes the eval report. The trained folder is then exported to ONNX
(`rag.retrieval.onnx_embedder.export_onnx`, what the onnx backend loads), ready to register as an embedder version.
"""

import logging
import random
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.core.errors import BadInput
from rag.core.hashing import sha256_tree
from rag.core.threads import cores
from rag.evaluation.retrieval_scores import mean, recall_at_k
from rag.finetune.embedder_pairs import Pair, PairSet
from rag.models.registry import ModelRegistry
from rag.retrieval.onnx_embedder import export_onnx

log = logging.getLogger(__name__)

Progress = Callable[[dict], None]


@dataclass
class TrainConfig:
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    warmup: float = 0.1  # share of the steps with a rising learning rate
    seed: int = 0
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda
    max_seq_length: int = 256


@dataclass
class TrainedEmbedder:
    model_dir: Path
    onnx_dir: Path
    sha256: str  # of model_dir as a folder: what the index will record
    train_report: dict
    eval_report: dict


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BadInput(f"--device {device}: torch sees no CUDA device here (use auto or cpu)")
    if device != "cpu" and not device.startswith("cuda"):
        raise BadInput(f"--device takes auto, cpu or cuda, got {device!r}")
    return device


def distinct_batches(texts: list[list[str]], order: list[int], size: int) -> list[list[int]]:
    """The examples `order` (indexes into `texts`, each example's texts) packed into batches of `size` in which no
    text appears twice (compared without case and outer spaces); an example that would repeat a text waits for a
    later batch. Batches of one are dropped."""
    queue, out = list(order), []
    while queue:
        batch: list[int] = []
        seen: set[str] = set()
        rest: list[int] = []
        for i in queue:
            keys = {t.strip().lower() for t in texts[i]}
            if len(batch) < size and not keys & seen:
                batch.append(i)
                seen |= keys
            else:
                rest.append(i)
        if len(batch) < 2:
            break
        out.append(batch)
        queue = rest
    return out


def distinct_sampler(texts: list[list[str]], batch_size: int, seed: int):
    """A torch batch sampler of `distinct_batches`, reshuffled at each pass; its length is the batches per epoch."""
    from torch.utils.data import Sampler

    class DistinctSampler(Sampler[list[int]]):
        def __init__(self):
            self.rng = random.Random(seed)

        def __len__(self) -> int:
            return max(1, len(texts) // batch_size)

        def __iter__(self):
            order = list(range(len(texts)))
            self.rng.shuffle(order)
            yield from distinct_batches(texts, order, batch_size)

    return DistinctSampler()


def recall(model, pairs: list[Pair], corpus: dict[int, str], batch_size: int) -> dict:
    """recall@1 and @10 of each pair's chunk among every chunk of `corpus` (exact cosine), with `model`."""
    if not pairs:
        return {"recall@1": None, "recall@10": None, "queries": 0}
    vids = sorted(corpus)
    docs = model.encode([corpus[v] for v in vids], batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    queries = model.encode([p.query for p in pairs], batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    top = np.argsort(-(queries @ docs.T), axis=1, kind="stable")[:, :10]
    ranked = [[vids[i] for i in row] for row in top]
    return {
        "recall@1": round(mean([recall_at_k(r, {p.vid: 1}, 1) for r, p in zip(ranked, pairs)]), 4),
        "recall@10": round(mean([recall_at_k(r, {p.vid: 1}, 10) for r, p in zip(ranked, pairs)]), 4),
        "queries": len(pairs),
    }


def train_embedder(
    registry: ModelRegistry, base: str, data: PairSet, out: Path, cfg: TrainConfig, progress: Progress | None = None
) -> TrainedEmbedder:
    """Train `base` on the train pairs of `data`, score it before and after on the held-out pairs, save it to
    `out/model` and its ONNX export to `out/onnx`; reports in `out/train_report.json` and `out/eval_report.json`."""
    import torch
    from sentence_transformers import InputExample, SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from torch.utils.data import DataLoader, Dataset

    class Listed(Dataset):
        def __init__(self, items: list):
            self.items = items

        def __len__(self) -> int:
            return len(self.items)

        def __getitem__(self, i: int):
            return self.items[i]

    tell = progress or (lambda event: None)
    resolved = registry.resolve(base)
    if registry.entry(base).get("kind") != "embedder":
        raise BadInput(f"{base!r} is not an embedding model")
    device = pick_device(cfg.device)
    train = data.train
    with_negative = [p for p in train if p.negative]
    if with_negative and len(with_negative) < len(train):  # one batch needs the same columns in every example
        train = with_negative
    if len(train) < 2:
        raise BadInput(f"{len(train)} training pair(s): too few to train on (ingest more documents)")
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    if device == "cpu":
        torch.set_num_threads(cores())
    model = SentenceTransformer(str(resolved.path), device=device, local_files_only=True)
    model.max_seq_length = cfg.max_seq_length
    eval_batch = 64
    tell({"phase": "eval", "message": f"scoring {len(data.heldout)} held-out pairs with the base model"})
    before = recall(model, data.heldout, data.corpus, eval_batch)

    texts = [[p.query, p.positive, p.negative] if p.negative else [p.query, p.positive] for p in train]
    examples = [InputExample(texts=t) for t in texts]
    # old_fit sets the collate function (tokenised columns) on the loader
    loader = DataLoader(Listed(examples), batch_sampler=distinct_sampler(texts, cfg.batch_size, cfg.seed))
    total = len(loader) * cfg.epochs
    losses: list[float] = []

    class Reported(torch.nn.Module):
        """The loss, telling the progress callback each step's value."""

        def __init__(self, loss):
            super().__init__()
            self.loss = loss

        def forward(self, features, labels):
            value = self.loss(features, labels)
            losses.append(round(float(value.detach()), 5))
            tell({"phase": "train", "step": len(losses), "total": total, "loss": losses[-1]})
            return value

    tell({"phase": "train", "step": 0, "total": total, "loss": None})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old_fit's notes about its newer replacement
        model.old_fit(
            train_objectives=[(loader, Reported(MultipleNegativesRankingLoss(model)))],
            epochs=cfg.epochs,
            warmup_steps=max(1, int(cfg.warmup * total)),
            optimizer_params={"lr": cfg.lr},
            show_progress_bar=False,
            use_amp=device.startswith("cuda"),
        )
    train_seconds = time.perf_counter() - t0
    model.eval()
    tell({"phase": "eval", "message": f"scoring {len(data.heldout)} held-out pairs with the tuned model"})
    after = recall(model, data.heldout, data.corpus, eval_batch)

    model_dir, onnx_dir = out / "model", out / "onnx"
    for folder in (model_dir, onnx_dir):
        shutil.rmtree(folder, ignore_errors=True)
    model.save(str(model_dir), create_model_card=False)
    sha256 = sha256_tree(model_dir)
    tell({"phase": "export", "message": f"exporting to ONNX in {onnx_dir}"})
    export_onnx(model_dir, onnx_dir, sha256)
    eval_report = {
        "metric": "recall@k of each held-out pair's chunk among every chunk of the store as indexed (exact cosine)",
        "heldout_pairs": len(data.heldout),
        "corpus_chunks": len(data.corpus),
        "before": before,
        "after": after,
        "base": base,
        "evaluation_data": "held-out generated pairs only (never trained on); no evaluation qrels were read",
    }
    train_report = {
        "base": base,
        "base_sha256": resolved.sha256,
        "sha256": sha256,
        "loss": "MultipleNegativesRankingLoss (in-batch negatives + one hard negative per pair)",
        "loop": "sentence-transformers 6.2.0 SentenceTransformer.old_fit",
        "device": device,
        "config": asdict(cfg),
        "train_pairs": len(train),
        "columns": len(texts[0]),
        "steps": len(losses),
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
        "losses": losses,
        "train_seconds": round(train_seconds, 1),
        "pairs_per_s": round(len(losses) * cfg.batch_size / max(train_seconds, 1e-9), 2),
    }
    return TrainedEmbedder(model_dir, onnx_dir, sha256, train_report, eval_report)
