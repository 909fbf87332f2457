"""Operations: bulk ingestion through jobs at 1 and 2 workers, re-index of 1% changed vs a full rebuild, and
search latency while a bulk load runs vs idle.

In one run, on N generated PDFs (1-3 pages each, known text):
  (a) for W in 1, 2: a fresh data dir, `rag serve` (no keys, loopback) and W `rag worker` processes (embedder
      loaded before timing starts); the files are submitted as 8 jobs of server-side paths; files/s and pages/s
      from the first submission to the last job done. While W=1 loads, a client sends `POST /v1/search` one
      after another: p50/p95 during the load; the same queries after it ("idle", same index): the ratio.
  (b) on the data dir of the last load: `reindex` of the source folder with 1% of the files changed vs
      `reindex --full` (in-process, embedder warm): seconds and their ratio.

Run:  .venv/bin/python bench/ops_bulk.py [--docs 1000] [--workers 1,2]
Writes bench/out/ops_bulk.json. Reports timings only; it never fails because something was slow.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, setup_env, table, write_result  # noqa: E402

RAG = [sys.executable, "-m", "api"]
QUESTIONS = ["budget line of document 7", "which code is used for lookups", "the amount in EUR on page 2",
             "report section about budgets", "document 42 budget"]


def make_corpus(folder: Path, n: int) -> int:
    from tests import docgen

    folder.mkdir(parents=True, exist_ok=True)
    pages = 0
    for i in range(n):
        count = 1 + i % 3
        docgen.simple_pdf(folder / f"doc{i:05d}.pdf", [
            (f"Section {i}.{p}", [f"Document {i} page {p}: the budget line {i}-{p} is {100 * i + p} EUR.",
                                  f"The lookup code of document {i} on page {p} is K{i}P{p}; it is listed for audits."])
            for p in range(1, count + 1)], title=f"Report {i}")
        pages += count
    return pages


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def bulk(corpus: Path, data: Path, workers: int, env: dict, measure_queries: bool) -> dict:
    import httpx

    port = free_port()
    logs = data.parent / f"logs-{workers}"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(env, RAG_INGEST__ALLOWED_ROOTS=json.dumps([str(corpus)]))
    server = subprocess.Popen([*RAG, "--data-dir", str(data), "serve", "--port", str(port), "--no-warm-up"],
                              stdout=open(logs / "server.log", "w"), stderr=subprocess.STDOUT, env=env)
    procs = [subprocess.Popen([*RAG, "--data-dir", str(data), "worker"], stdout=open(logs / f"worker{k}.log", "w"),
                              stderr=subprocess.STDOUT, env=env) for k in range(workers)]
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            for k in range(workers):  # the worker prints its line once the embedder is loaded
                while "unfinished jobs re-queued" not in (logs / f"worker{k}.log").read_text():
                    time.sleep(0.5)
            client.post("/v1/search", json={"question": "warm up the embedder"})
            files = sorted(str(p) for p in corpus.glob("*.pdf"))
            groups = [files[i::8] for i in range(8)]
            during: list[float] = []
            stop = threading.Event()

            def ask_all(out: list[float]) -> None:
                with httpx.Client(base_url=base, timeout=300) as c:
                    i = 0
                    while not stop.is_set():
                        t = time.perf_counter()
                        c.post("/v1/search", json={"question": QUESTIONS[i % len(QUESTIONS)], "k": 5})
                        out.append((time.perf_counter() - t) * 1000)
                        i += 1
                        time.sleep(0.1)

            t0 = time.perf_counter()
            ids = [client.post("/v1/documents", json={"paths": g, "collection": "bulk"}).json()["id"] for g in groups]
            querier = threading.Thread(target=ask_all, args=(during,)) if measure_queries else None
            if querier:
                querier.start()
            pending = set(ids)
            while pending:
                for job_id in list(pending):
                    if client.get(f"/v1/jobs/{job_id}").json()["state"] in ("done", "failed", "cancelled"):
                        pending.discard(job_id)
                time.sleep(0.5)
            seconds = time.perf_counter() - t0
            stop.set()
            if querier:
                querier.join()
            jobs = [client.get(f"/v1/jobs/{j}").json() for j in ids]
            pages = sum(f["pages"] for j in jobs for f in j["files"])
            ok = sum(j["counts"]["ok"] for j in jobs)
            idle: list[float] = []
            if measure_queries:
                for i in range(max(30, len(during))):
                    t = time.perf_counter()
                    client.post("/v1/search", json={"question": QUESTIONS[i % len(QUESTIONS)], "k": 5})
                    idle.append((time.perf_counter() - t) * 1000)
                    time.sleep(0.1)
    finally:
        for p in [*procs, server]:
            p.terminate()
        for p in [*procs, server]:
            p.wait(timeout=60)
    result = {"workers": workers, "files": len(files), "ok": ok, "pages": pages, "seconds": round(seconds, 1),
              "files_per_s": round(len(files) / seconds, 2), "pages_per_s": round(pages / seconds, 2)}
    if measure_queries:
        result["queries"] = {
            "during": {"n": len(during), "p50_ms": round(statistics.median(during), 1),
                       "p95_ms": round(percentile(during, 0.95), 1)},
            "idle": {"n": len(idle), "p50_ms": round(statistics.median(idle), 1), "p95_ms": round(percentile(idle, 0.95), 1)}}
        result["queries"]["p95_ratio_during_vs_idle"] = round(result["queries"]["during"]["p95_ms"]
                                                              / result["queries"]["idle"]["p95_ms"], 2)
    return result


def reindex_ratio(corpus: Path, data: Path) -> dict:
    from tests import docgen

    os.environ["RAG_DATA_DIR"] = str(data)
    from ingest.reindex import reindex
    from rag.services import Services
    from rag.settings import Settings, Source

    services = Services(Settings(data_dir=data))
    services.embedder.warm_up()
    sources = [Source(path=corpus, collection="bulk")]
    t0 = time.perf_counter()
    first = reindex(services, sources)  # everything was ingested by the jobs: all unchanged
    unchanged_s = time.perf_counter() - t0
    files = sorted(corpus.glob("*.pdf"))
    changed = files[:: max(1, len(files) // max(1, len(files) // 100))][: max(1, len(files) // 100)]
    for f in changed:
        docgen.simple_pdf(f, [("Changed", [f"{f.stem} was revised: the new budget is 7 EUR."])], title="Revised")
    t0 = time.perf_counter()
    incremental = reindex(services, sources)
    incremental_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = reindex(services, sources, full=True)
    full_s = time.perf_counter() - t0
    return {"files": len(files), "changed": len(changed), "nothing_changed_s": round(unchanged_s, 2),
            "nothing_changed_counts": first.as_dict()["counts"],
            "incremental_s": round(incremental_s, 2), "incremental_counts": incremental.as_dict()["counts"],
            "full_s": round(full_s, 2), "full_counts": full.as_dict()["counts"],
            "ratio_incremental_vs_full": round(incremental_s / full_s, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()
    setup_env()
    env = dict(os.environ, RAG_JOBS__PUBLISH_EVERY="50", RAG_JOBS__POLL_MAX_S="0.5", RAG_AUTH__RATE_PER_MIN="0")
    env.pop("RAG_GENERATOR__MODEL", None)
    tmp = Path(tempfile.mkdtemp(prefix="rag-ops-bench-"))
    try:
        corpus = tmp / "corpus"
        t0 = time.perf_counter()
        pages = make_corpus(corpus, args.docs)
        print(f"generated {args.docs} PDFs, {pages} pages in {time.perf_counter() - t0:.0f}s", flush=True)
        loads = []
        workers = [int(w) for w in args.workers.split(",")]
        for w in workers:
            data = tmp / f"data-{w}"
            loads.append(bulk(corpus, data, w, env, measure_queries=(w == workers[0])))
            print(json.dumps(loads[-1]), flush=True)
        re = reindex_ratio(corpus, tmp / f"data-{workers[-1]}")
        print(json.dumps(re), flush=True)
        print(table(["workers", "files", "pages", "seconds", "files/s", "pages/s"],
                    [[r["workers"], r["files"], r["pages"], r["seconds"], r["files_per_s"], r["pages_per_s"]] for r in loads],
                    title="Bulk ingestion through jobs"))
        q = loads[0]["queries"]
        print(f"search p95 during the load {q['during']['p95_ms']} ms vs idle {q['idle']['p95_ms']} ms: "
              f"ratio {q['p95_ratio_during_vs_idle']}")
        print(f"re-index with {re['changed']} of {re['files']} files changed: {re['incremental_s']} s; full rebuild "
              f"{re['full_s']} s; ratio {re['ratio_incremental_vs_full']}")
        path = write_result("ops_bulk", {"env": env_info(), "docs": args.docs, "loads": loads, "reindex": re})
        print(f"wrote {path}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
