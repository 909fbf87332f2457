"""End-to-end query latency at scale: the real `KnowledgeBase.search` (embed the question with the real embedder,
dense search, BM25 search, RRF fusion, SQLite lookup, per-page diversity) over 10k / 100k / 1M chunks.

    .venv/bin/python bench/query_latency.py [--sizes 10000,100000,1000000] [--queries 200] [--kinds flat,ivfpq,hnsw]

Embedding a million real texts is not feasible on 2 cores, so the collection is synthetic: chunk texts are
`--words` words drawn from the unigram distribution of the SciFact corpus (real English terms with real
frequencies, so real questions hit realistic BM25 posting lists) and the vectors are clustered unit vectors
(as in bench/index_kinds.py). The questions are real (SciFact queries) and are embedded for real on every query;
every other one is made to name a document ("... according to the Acme Holdings FY2019 report?"), and each synthetic
document has a profile (one of 100 organisations, one report a year), so `--routes off,boost` times question
routing doing real work: matching names and periods, then the extra searches limited to the routed documents.
Each size runs in its own process (clean memory numbers); the store, the vectors and BM25 are built once per size,
then each index kind is built over the same vectors and queried. Memory is RSS growth per component, per million chunks.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, setup_env, table, write_result  # noqa: E402

SCIFACT = "/work/shared/data/scifact-train"
CHUNKS_PER_DOC, CHUNKS_PER_PAGE = 1000, 4


def rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def vocabulary(corpus: Path) -> tuple[np.ndarray, np.ndarray]:
    """Words of the corpus and their relative frequencies."""
    counts = collections.Counter()
    with open(corpus) as fh:
        for line in fh:
            rec = json.loads(line)
            counts.update(re.findall(r"[a-z0-9]+", f"{rec.get('title', '')} {rec.get('text', '')}".lower()))
    words = np.array(list(counts))
    freq = np.array(list(counts.values()), dtype=np.float64)
    return words, freq / freq.sum()


def synthetic_texts(n: int, words_per_chunk: int, vocab: tuple[np.ndarray, np.ndarray], seed: int = 0):
    """Yield n texts of `words_per_chunk` words sampled from a unigram distribution, in blocks."""
    words, p = vocab
    rng = np.random.default_rng(seed)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        draws = words[rng.choice(len(words), size=(m, words_per_chunk), p=p)]
        yield [" ".join(row) for row in draws]


def synthetic_vectors(n: int, dim: int, seed: int = 0, noise: float = 0.3) -> np.ndarray:
    """Clustered unit vectors, generated in blocks to keep temporary memory small."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 500, 8), dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        v = centres[rng.integers(0, len(centres), m)] + noise * rng.standard_normal((m, dim), dtype=np.float32)
        out[start : start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


ORG_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne"]
ORG_KINDS = ["Holdings", "Systems", "Industries", "Labs", "Foods", "Energy", "Logistics", "Pharma", "Media", "Motors"]
YEARS = 8  # each organisation has a report per year, 2016-2023: near-duplicates the period must pick between


def org_of(doc: int) -> tuple[str, int]:
    """The organisation and year of synthetic document `doc`: 100 organisations, one report a year each."""
    org = doc // YEARS
    name = f"{ORG_WORDS[org % 10]} {ORG_KINDS[org // 10 % 10]}" + (f" {org // 100}" if org >= 100 else "")
    return name + " Inc.", 2016 + doc % YEARS


def profile_json(doc: int) -> str:
    """A profile as ingestion writes it, so that routing has real work to do (names to match, periods to fit)."""
    from rag.core.types import DocumentProfile

    org, year = org_of(doc)
    return DocumentProfile(
        title=f"{org} annual report {year}", organizations=[org], period=f"FY{year}", year=year, kind="annual report"
    ).model_dump_json()


def named_questions(questions: list[str], docs: int) -> list[str]:
    """Every other question names a document's organisation and year, as a user asking about one report would."""
    out = []
    for i, q in enumerate(questions):
        if i % 2:
            org, year = org_of((i * 7919) % docs)
            q = f"{q.rstrip('.?')} according to the {org.removesuffix(' Inc.')} FY{year} report?"
        out.append(q)
    return out


def fill_store(store, n: int, texts) -> list[int]:
    """Documents of CHUNKS_PER_DOC chunks (CHUNKS_PER_PAGE per page) written into the store's SQLite tables in
    bulk (the same rows `replace_document` writes, without building a pydantic object per chunk); returns vids."""
    db, i = store.sql.connection(), 0
    with db:
        for block in texts:
            docs, rows = {}, []
            for j, text in enumerate(block, i):
                doc_id = f"doc{j // CHUNKS_PER_DOC:06d}"
                docs[doc_id] = j % CHUNKS_PER_DOC // CHUNKS_PER_PAGE + 1
                rows.append((f"{doc_id}-{j}", doc_id, j % CHUNKS_PER_DOC // CHUNKS_PER_PAGE + 1, "[]", "", text, "", j))
            db.executemany(
                "INSERT OR REPLACE INTO documents(id,name,path,collection,sha256,status,pages,profile)"
                " VALUES (?,?,?,'default',?,'ok',?,?)",
                [(d, f"{d}.pdf", f"/synthetic/{d}.pdf", d, pages, profile_json(int(d[3:]))) for d, pages in docs.items()],
            )
            db.executemany("INSERT INTO chunks(id,doc_id,page,bbox,heading,text,html,ord) VALUES (?,?,?,?,?,?,?,?)", rows)
            i += len(block)
    vids = store.all_vids()
    assert len(vids) == n
    return sorted(vids)


def worker(args) -> dict:
    """One size in this process: build store, vectors and BM25 once, then each index kind; time queries."""
    from rag.core.settings import Settings
    from rag.models.registry import ModelRegistry
    from rag.retrieval.embedder import SentenceTransformerEmbedder
    from rag.retrieval.knowledge_base import KnowledgeBase, LiveIndexes, embed_text
    from rag.retrieval.lexical import Bm25Index

    n = args.size
    settings = Settings(data_dir=Path(args.data_dir), models_dir=args.models_dir)
    settings.index.use_gpu = "never"
    if args.threads:  # on a busy machine one thread avoids OpenMP barriers waiting for descheduled threads
        import faiss

        settings.embedder.threads = args.threads
        faiss.omp_set_num_threads(args.threads)
    embedder = SentenceTransformerEmbedder(settings.embedder, ModelRegistry(settings))
    embedder.warm_up()
    questions = [json.loads(line)["text"] for line in open(Path(args.scifact) / "queries.jsonl")][: args.queries]
    questions = named_questions(questions, max(n // CHUNKS_PER_DOC, 1))
    kb = KnowledgeBase(settings, embedder)
    mem, build = {"start": rss_mib()}, {}

    vocab = vocabulary(Path(args.scifact) / "corpus.jsonl")
    t0 = time.perf_counter()
    vids = fill_store(kb.store, n, synthetic_texts(n, args.words, vocab))
    build["sqlite_s"] = time.perf_counter() - t0
    mem["after_sqlite"] = rss_mib()
    t0 = time.perf_counter()
    index = kb._load(None)
    index.add(vids, synthetic_vectors(n, embedder.dim))
    build["vectors_add_s"] = time.perf_counter() - t0
    mem["after_vectors"] = rss_mib()
    t0 = time.perf_counter()
    rows = kb.store.all_texts()
    lexical = Bm25Index.build([v for v, _, _, _ in rows], [embed_text(h, t) for _, h, t, _ in rows])
    del rows
    build["bm25_s"] = time.perf_counter() - t0
    mem["after_bm25"] = rss_mib()

    results = []
    for kind in args.kinds.split(","):
        before = rss_mib()
        t0 = time.perf_counter()
        meta = index.build_ann(kind, settings.index.hnsw_m, settings.index.hnsw_ef_search, settings.index.ivf_nprobe)
        ann_s = time.perf_counter() - t0
        ann_mib = rss_mib() - before
        with kb._read_lock:  # serve this kind from memory: same vectors, same BM25, no reload from disk
            kb._live, kb._version, kb._mismatch = LiveIndexes(index, lexical), kb.versions.current(), None
        for route in args.routes.split(","):
            settings.retrieval.route = route  # type: ignore[assignment]  # a word of the Literal, from the command line
            kb._router = None
            results.append(_time_queries(kb, questions, n, kind, route, meta, ann_s, ann_mib))
            print(json.dumps(results[-1]), flush=True)
        index.build_ann("flat")  # drop this kind's graph or lists before the next
    per_m = 1e6 / n
    memory = {
        "sqlite_mib_per_m": (mem["after_sqlite"] - mem["start"]) * per_m,
        "vectors_mib_per_m": (mem["after_vectors"] - mem["after_sqlite"]) * per_m,
        "bm25_mib_per_m": (mem["after_bm25"] - mem["after_vectors"]) * per_m,
        "rss_after_build_mib": mem["after_bm25"],
        "peak_rss_mib": _peak(),
    }
    build_per_m = {f"{k}_per_m": v * per_m for k, v in build.items()}
    return {
        "n": n,
        "build_s": {k: round(v, 2) for k, v in build.items()},
        "build_s_per_million": {k: round(v, 1) for k, v in build_per_m.items()},
        "memory": {k: round(v, 1) for k, v in memory.items()},
        "kinds": results,
        "load_avg": os.getloadavg(),
    }


def _time_queries(kb, questions: list[str], n: int, kind: str, route: str, meta, ann_s: float, ann_mib: float) -> dict:
    """p50/p95 of `kb.search` over the questions (after 10 warm-up queries), with each timing part."""
    for q in questions[:10]:
        kb.search(q, 5)
    totals, parts, routed = [], collections.defaultdict(list), 0
    for q in questions:
        t1 = time.perf_counter()
        hits, timings = kb.search(q, 5)
        totals.append((time.perf_counter() - t1) * 1000)
        routed += any(h.route for h in hits)
        for key, value in timings.items():
            parts[key].append(value)
        assert hits
    r = {
        "n": n,
        "kind": kind,
        "route": route,
        "params": meta,
        "ann_build_s": round(ann_s, 2),
        "ann_mib": round(ann_mib, 1),
        "p50_ms": round(float(np.percentile(totals, 50)), 2),
        "p95_ms": round(float(np.percentile(totals, 95)), 2),
        "routed_share": round(routed / len(questions), 3),
    }
    for key, values in parts.items():
        r[f"{key}_p50"] = round(float(np.percentile(values, 50)), 2)
        r[f"{key}_p95"] = round(float(np.percentile(values, 95)), 2)
    return r


def _peak() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--kinds", default="flat,ivfpq,hnsw")
    ap.add_argument("--routes", default="off,boost", help="question routing settings to time (RAG_RETRIEVAL__ROUTE)")
    ap.add_argument("--words", type=int, default=60, help="words per synthetic chunk")
    ap.add_argument("--scifact", default=SCIFACT, help="folder with corpus.jsonl (vocabulary) and queries.jsonl")
    ap.add_argument("--models-dir", default=os.environ.get("RAG_MODELS_DIR"))
    ap.add_argument("--threads", type=int, default=0, help="embedder and FAISS threads (0: every core)")
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    setup_env()
    args.models_dir = args.models_dir or os.environ["RAG_MODELS_DIR"]
    if args.size:
        Path(args.result).write_text(json.dumps(worker(args)))
        return
    runs = []
    for n in [int(x) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix=f"qlat-{n}-") as tmp:
            res = Path(tmp) / "result.json"
            cmd = [
                sys.executable,
                __file__,
                "--size",
                str(n),
                "--data-dir",
                str(Path(tmp) / "data"),
                "--result",
                str(res),
                "--queries",
                str(args.queries),
                "--kinds",
                args.kinds,
                "--routes",
                args.routes,
                "--words",
                str(args.words),
                "--scifact",
                args.scifact,
                "--models-dir",
                str(args.models_dir),
                "--threads",
                str(args.threads),
            ]
            print(f"== {n} chunks, load {os.getloadavg()[0]:.2f}", flush=True)
            subprocess.run(cmd, check=True)
            runs.append(json.loads(res.read_text()))
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "kinds"}), flush=True)
    base = {(k["n"], k["kind"]): k for r in runs for k in r["kinds"] if k["route"] == "off"}

    def ratio(k: dict, key: str) -> str:
        """This row's time over routing off's in the same run, same size and index kind."""
        b = base.get((k["n"], k["kind"]))
        return f"{k[key] / b[key]:.2f}x" if b and b[key] else "-"

    rows = [
        [
            r["n"],
            k["kind"],
            k["route"],
            k["routed_share"],
            k["p50_ms"],
            k["p95_ms"],
            ratio(k, "p95_ms"),
            k["route_ms_p50"],
            k["embed_ms_p50"],
            k["dense_ms_p50"],
            k["lexical_ms_p50"],
            k["fuse_ms_p50"],
            k["ann_build_s"],
        ]
        for r in runs
        for k in r["kinds"]
    ]
    print(
        table(
            [
                "chunks",
                "kind",
                "route",
                "routed",
                "p50 ms",
                "p95 ms",
                "p95 / off",
                "route p50",
                "embed p50",
                "dense p50",
                "bm25 p50",
                "fuse p50",
                "ann build s",
            ],
            rows,
            title=f"End-to-end query latency (hybrid, k 5), {args.queries} SciFact questions, "
            f"threads {args.threads or 'all'}, load {os.getloadavg()[0]:.2f}",
        )
    )
    mem_rows = [
        [
            r["n"],
            r["build_s"]["sqlite_s"],
            r["build_s"]["bm25_s"],
            r["memory"]["vectors_mib_per_m"],
            r["memory"]["bm25_mib_per_m"],
            r["memory"]["sqlite_mib_per_m"],
            r["memory"]["peak_rss_mib"],
        ]
        for r in runs
    ]
    print(
        table(
            ["chunks", "sqlite s", "bm25 build s", "vectors MiB/1M", "bm25 MiB/1M", "sqlite MiB/1M", "peak RSS MiB"],
            mem_rows,
            title="Build time and memory",
        )
    )
    write_result("query_latency", {"benchmark": "query_latency", "params": vars(args), "runs": runs, "env": env_info()})


if __name__ == "__main__":
    main()
