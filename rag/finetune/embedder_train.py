"""Training the embedder on pairs made from the corpus (`rag finetune embedder`): the eval report and the ONNX export.

The packaged model (all-MiniLM-L6-v2, resolved and sha256-checked by the registry as the serving embedder does) is
trained with sentence-transformers' `MultipleNegativesRankingLoss`: each question against its chunk, every other
chunk of the batch and every hard negative of the batch. A batch never holds one text twice (a chunk that is one
pair's positive and another's negative would be a false negative). The loop is sentence-transformers' own fit loop
of version 6.2.0, `SentenceTransformer.old_fit` (AdamW, linear warm-up and decay, gradient clipping): its newer
`fit` and `SentenceTransformerTrainer` need the `datasets` package, which this project does not depend on.
CUDA when present (`device="auto"`), else CPU.

The trained folder is exported to ONNX (`rag.retrieval.onnx_embedder.export_onnx`, what the onnx backend loads),
ready to register as an embedder version. The eval report (`heldout_recall`) searches the held-out pairs among the
chunks as indexed (exact cosine; at most `eval_chunks` of them, the held-out positives always among them) with the
embedder serving now and with the candidate through the same backend as serving will use: recall@1/@10 of each
pair's chunk, before and after.
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
from rag.core.settings import EmbedderSettings
from rag.core.threads import cores
from rag.evaluation.retrieval_scores import mean, recall_at_k
from rag.finetune.embedder_pairs import PairSet
from rag.models.embedder_versions import EmbedderVersion
from rag.models.registry import ModelRegistry
from rag.retrieval.embedder import Embedder, SentenceTransformerEmbedder
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
    out: Path  # holds model/ and onnx/, laid out as an embedder version's folder
    base: str
    base_sha256: str
    sha256: str  # of model/ as a folder: what the index will record
    train_report: dict

    @property
    def model_dir(self) -> Path:
        return self.out / "model"

    @property
    def onnx_dir(self) -> Path:
        return self.out / "onnx"

    def candidate(self, settings: EmbedderSettings, registry: ModelRegistry) -> SentenceTransformerEmbedder:
        """The trained model as the service would embed with it (the configured backend; not yet registered)."""
        version = EmbedderVersion(
            id="candidate", base=self.base, base_sha256=self.base_sha256, sha256=self.sha256, folder=self.out
        )
        return SentenceTransformerEmbedder(settings, registry, version)


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


def heldout_recall(before: Embedder, after: Embedder, data: PairSet, eval_chunks: int = 20000, seed: int = 0) -> dict:
    """The eval report: recall@1 and @10 of each held-out pair's chunk among the chunks as indexed (all of them, or
    `eval_chunks` drawn at random with every held-out positive kept), searched by exact cosine with `before` (the
    embedder serving now) and `after` (the candidate)."""
    vids = sorted(data.corpus)
    if len(vids) > eval_chunks:
        wanted = {p.vid for p in data.heldout}
        rest = random.Random(seed).sample([v for v in vids if v not in wanted], max(eval_chunks - len(wanted), 0))
        vids = sorted(wanted | set(rest))
    texts = [data.corpus[v] for v in vids]

    def scores(embedder: Embedder) -> dict:
        if not data.heldout:
            return {"recall@1": None, "recall@10": None, "queries": 0, "embedder": embedder.identity()}
        docs = embedder.embed(texts)
        queries = embedder.embed([p.query for p in data.heldout])
        top = np.argsort(-(queries @ docs.T), axis=1, kind="stable")[:, :10]
        ranked = [[vids[i] for i in row] for row in top]
        pairs = list(zip(ranked, data.heldout))
        return {
            "recall@1": round(mean([recall_at_k(r, {p.vid: 1}, 1) for r, p in pairs]), 4),
            "recall@10": round(mean([recall_at_k(r, {p.vid: 1}, 10) for r, p in pairs]), 4),
            "queries": len(pairs),
            "embedder": embedder.identity(),
        }

    return {
        "metric": "recall@k of each held-out pair's chunk among the chunks of the store as indexed (exact cosine)",
        "heldout_pairs": len(data.heldout),
        "corpus_chunks": len(vids),
        "before": scores(before),
        "after": scores(after),
        "evaluation_data": "held-out generated pairs only (never trained on); no evaluation qrels were read",
    }


def train_embedder(
    registry: ModelRegistry, base: str, data: PairSet, out: Path, cfg: TrainConfig, progress: Progress | None = None
) -> TrainedEmbedder:
    """Train `base` on the train pairs of `data`; save it to `out/model` and its ONNX export to `out/onnx`."""
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

    model_dir, onnx_dir = out / "model", out / "onnx"
    for folder in (model_dir, onnx_dir):
        shutil.rmtree(folder, ignore_errors=True)
    model.save(str(model_dir), create_model_card=False)
    sha256 = sha256_tree(model_dir)
    tell({"phase": "export", "message": f"exporting to ONNX in {onnx_dir}"})
    export_onnx(model_dir, onnx_dir, sha256)
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
    return TrainedEmbedder(out, base, resolved.sha256, sha256, train_report)
