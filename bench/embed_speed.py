"""Embedding throughput per backend (torch, int8, onnx) on realistic ~200-word chunks, with peak memory and
how close each backend's vectors are to torch's.

    .venv/bin/python bench/embed_speed.py [--corpus .../scifact-train/corpus.jsonl] [--n 256] [--repeat 2]

Chunks are windows of at most `--words` words over SciFact abstracts (title + text), read from the corpus path
(nothing is copied). Every variant runs in its own process (clean peak RSS, no shared thread pools):
- torch: sentence-transformers `encode` over all chunks (it sorts by length internally, then restores order);
- torch-unsorted: the same, fed one batch at a time in corpus order (what the internal sort saves);
- torch-1-thread: torch with one thread (what using every core gives);
- int8: Linear layers dynamically quantised to int8; onnx: ONNX Runtime over a local export of the same weights.
Ratios are against `torch` measured in the same run. Retrieval quality per backend comes from
`rag eval retrieval --modes dense` (see docs/benchmarks.md), not from here.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, peak_rss_mib, setup_env, table, write_result  # noqa: E402

DEFAULT_CORPUS = "/work/shared/data/scifact-train/corpus.jsonl"
VARIANTS = {
    "torch": ("torch", 0, True),
    "torch-unsorted": ("torch", 0, False),
    "torch-1-thread": ("torch", 1, True),
    "int8": ("int8", 0, True),
    "onnx": ("onnx", 0, True),
}


def load_chunks(corpus: Path, n: int, words: int) -> list[str]:
    """The first `n` windows of at most `words` words over the corpus records."""
    out = []
    with open(corpus) as fh:
        for line in fh:
            rec = json.loads(line)
            tokens = f"{rec.get('title', '')}\n{rec.get('text', '')}".split()
            for start in range(0, len(tokens), words):
                window = tokens[start : start + words]
                if len(window) >= 20:
                    out.append(" ".join(window))
                if len(out) == n:
                    return out
    return out


def worker(args) -> None:
    """One variant in this process: load, warm up, time `repeat` passes; writes JSON and the vectors."""
    from rag.core.settings import EmbedderSettings, Settings
    from rag.models.registry import ModelRegistry
    from rag.retrieval.embedder import SentenceTransformerEmbedder

    backend, threads, sorted_batches = VARIANTS[args.variant]
    texts = load_chunks(Path(args.corpus), args.n, args.words)
    settings = Settings(models_dir=args.models_dir)
    emb = SentenceTransformerEmbedder(
        EmbedderSettings(backend=backend, threads=threads, batch_size=args.batch_size), ModelRegistry(settings)
    )
    t0 = time.perf_counter()
    emb.warm_up()
    load_s = time.perf_counter() - t0
    emb.embed(texts[: args.batch_size])

    def one_pass() -> np.ndarray:
        if sorted_batches:
            return emb.embed(texts)
        return np.vstack([emb.embed(texts[i : i + args.batch_size]) for i in range(0, len(texts), args.batch_size)])

    times, vecs = [], None
    for _ in range(args.repeat):
        t1 = time.perf_counter()
        vecs = one_pass()
        times.append(time.perf_counter() - t1)
    np.save(args.vectors, vecs)
    tokenizer = getattr(emb._model, "tokenizer", None)
    tokens = None
    if callable(tokenizer):
        tokens = float(np.mean([min(len(ids), 256) for ids in tokenizer(texts)["input_ids"]]))
    import torch

    result = {
        "variant": args.variant,
        "backend": backend,
        "threads": threads or torch.get_num_threads(),
        "load_s": round(load_s, 2),
        "pass_s": [round(t, 2) for t in times],
        "chunks_per_s": round(len(texts) / float(np.median(times)), 2),
        "mean_tokens": tokens,
        "peak_rss_mib": peak_rss_mib()["self_mib"],
    }
    Path(args.result).write_text(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--n", type=int, default=256, help="chunks per pass")
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument(
        "--models-dir",
        default=os.environ.get("RAG_MODELS_DIR"),
        help="where the onnx export is made/read (default $RAG_MODELS_DIR)",
    )
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--vectors", help=argparse.SUPPRESS)
    args = ap.parse_args()
    setup_env()
    args.models_dir = args.models_dir or os.environ["RAG_MODELS_DIR"]
    if args.variant:
        return worker(args)
    texts = load_chunks(Path(args.corpus), args.n, args.words)
    print(
        f"{len(texts)} chunks, mean {np.mean([len(t.split()) for t in texts]):.0f} words; load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results, vectors = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            res, vec = Path(tmp) / f"{variant}.json", Path(tmp) / f"{variant}.npy"
            cmd = [
                sys.executable,
                __file__,
                "--variant",
                variant,
                "--result",
                str(res),
                "--vectors",
                str(vec),
                "--corpus",
                args.corpus,
                "--n",
                str(args.n),
                "--words",
                str(args.words),
                "--batch-size",
                str(args.batch_size),
                "--repeat",
                str(args.repeat),
                "--models-dir",
                str(args.models_dir),
            ]
            subprocess.run(cmd, check=True)
            results.append(json.loads(res.read_text()))
            vectors[variant] = np.load(vec)
            print(results[-1], flush=True)
    base = next((r for r in results if r["variant"] == "torch"), results[0])
    ref = vectors[base["variant"]]
    rows = []
    for r in results:
        cos = np.sum(vectors[r["variant"]] * ref, axis=1)
        r.update(
            ratio_vs_torch=round(r["chunks_per_s"] / base["chunks_per_s"], 2),
            cos_vs_torch_min=round(float(cos.min()), 4),
            cos_vs_torch_mean=round(float(cos.mean()), 4),
        )
        rows.append(
            [
                r["variant"],
                r["threads"],
                r["chunks_per_s"],
                r["ratio_vs_torch"],
                r["load_s"],
                r["peak_rss_mib"],
                r["cos_vs_torch_mean"],
                r["cos_vs_torch_min"],
            ]
        )
    print(
        table(
            ["variant", "threads", "chunks/s", "x torch", "load s", "peak RSS MiB", "cos mean", "cos min"],
            rows,
            title=f"Embedding throughput, {len(texts)} chunks of <= {args.words} words, batch {args.batch_size}, "
            f"median of {args.repeat}; load {os.getloadavg()[0]:.2f}",
        )
    )
    write_result("embed_speed", {"benchmark": "embed_speed", "params": vars(args), "results": results, "env": env_info()})


if __name__ == "__main__":
    main()
