"""Vector index kinds at scale: query latency p50/p95, recall@10 against exact search, build time and memory.

    .venv/bin/python bench/index_kinds.py [--sizes 10000,100000] [--queries 200] [--dim 384]

Synthetic unit vectors (clustered, so approximate search is not trivially easy); the index part only.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, table, write_result  # noqa: E402
from rag.retrieval.vector_index import FaissIndex  # noqa: E402


def vectors(n: int, dim: int, seed: int, noise: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 500, 8), dim))
    v = centres[rng.integers(0, len(centres), n)] + noise * rng.normal(size=(n, dim))
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def file_mib(index: FaissIndex) -> float:
    with tempfile.TemporaryDirectory() as d:
        index.save(Path(d))
        return round(sum(p.stat().st_size for p in Path(d).iterdir()) / 2**20, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--kinds", default="flat,hnsw,ivfpq")
    ap.add_argument("--noise", type=float, default=0.3, help="cluster spread of the synthetic vectors (x centre norm)")
    ap.add_argument(
        "--real",
        help="a faiss.index of real embeddings (e.g. a data dir's indexes/<v>/faiss.index): "
        "its vectors are the collection, a held-out sample of them the queries",
    )
    args = ap.parse_args()
    rows, results = [], []
    sizes = [int(x) for x in args.sizes.split(",")]
    real = None
    if args.real:
        import faiss

        stored = faiss.read_index(args.real)
        flat = faiss.downcast_index(stored.index) if hasattr(stored, "id_map") else stored
        real = flat.reconstruct_n(0, stored.ntotal)
        sizes = [len(real) - args.queries]
    for n in sizes:
        if real is not None:
            perm = np.random.default_rng(0).permutation(len(real))
            data, queries = real[perm[:n]], real[perm[n:]]
            args.dim = real.shape[1]
        else:
            data = vectors(n, args.dim, 0, args.noise)
            queries = vectors(args.queries, args.dim, 1, args.noise)
        exact = FaissIndex(args.dim, use_gpu="never")
        exact.add(list(range(n)), data)
        truth = [{i for i, _ in exact.search(q, 10)} for q in queries]
        for kind in args.kinds.split(","):
            index = FaissIndex(args.dim, use_gpu="never")
            index.add(list(range(n)), data)
            t0 = time.perf_counter()
            meta = index.build_ann(kind)
            build = time.perf_counter() - t0
            lat, recall = [], 0
            for q, t in zip(queries, truth):
                t1 = time.perf_counter()
                found = index.search(q, 10)
                lat.append((time.perf_counter() - t1) * 1000)
                recall += len(t & {i for i, _ in found})
            p50, p95 = np.percentile(lat, 50), np.percentile(lat, 95)
            mib = file_mib(index)
            r = {
                "n": n,
                "kind": kind,
                "params": meta,
                "build_s": round(build, 2),
                "p50_ms": round(float(p50), 3),
                "p95_ms": round(float(p95), 3),
                "recall@10": round(recall / (10 * len(queries)), 4),
                "files_mib": mib,
                "mib_per_million": round(mib * 1e6 / n, 0),
            }
            results.append(r)
            rows.append([n, kind, r["build_s"], r["p50_ms"], r["p95_ms"], r["recall@10"], mib, r["mib_per_million"]])
            print(rows[-1], flush=True)
    print(
        table(
            ["vectors", "kind", "build s", "p50 ms", "p95 ms", "recall@10", "files MiB", "MiB per 1M"],
            rows,
            title=f"Vector index kinds, dim {args.dim}, {args.queries} queries, "
            f"{'real embeddings' if real is not None else f'synthetic, noise {args.noise}'}",
        )
    )
    write_result("index_kinds", {"benchmark": "index_kinds", "params": vars(args), "results": results, "env": env_info()})


if __name__ == "__main__":
    main()
