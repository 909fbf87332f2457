"""Operations: bulk ingestion with `rag ingest` at 1 and 2 parse processes and through jobs at 1 and 2 workers,
search latency while a bulk load runs vs idle, and re-index of 1% changed vs a full rebuild.

In one run, on N generated PDFs (1-3 pages of text each; with --scans-every K, every K-th is a one-page scan read
by OCR instead, as a bulk load of real documents has some):
  (cli)  for P in --processes: a fresh data dir holding the corpus once already (collection "base", not timed),
         `rag serve` on it (no keys, loopback) and searches sent one after another (0.1 s apart) while nothing else
         runs ("idle"); then `rag ingest CORPUS --collection bulk --processes P` as one command: files/s and pages/s
         from its start to its exit (models loaded inside), while the same searches go on ("during"). `rag ingest`
         publishes once at the end, so both sets of searches hit the same index version: the p95 ratio is the
         slowdown the load causes.
  (jobs) for W in --workers: a fresh data dir, `rag serve` and W `rag worker` processes (embedder loaded before
         timing starts; with W > 1 each gets cores / W inference threads unless --worker-threads is given); the files
         submitted as 8 jobs of server-side paths; files/s and pages/s from the first submission to the last job
         done; search latency during and after the first of these loads, as above.
  (reindex) on the data dir of the last jobs load: `reindex` of the folder with 1% of the files changed vs
         `reindex --full` (in-process, embedder warm): seconds and their ratio.
While each part runs, the machine is watched: load average, and CPU seconds used by processes other than this
benchmark's (the machine may be shared), so a reader can tell whether it was quiet.

Run:  .venv/bin/python bench/ops_bulk.py [--docs 1000] [--scans-every 0] [--parts cli,jobs,reindex]
                                        [--processes 1,2] [--workers 1,2]
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
QUESTIONS = [
    "budget line of document 7",
    "which code is used for lookups",
    "the amount in EUR on page 2",
    "report section about budgets",
    "document 42 budget",
]


def make_corpus(folder: Path, n: int, scans_every: int = 0) -> int:
    from tests.helpers import docgen

    folder.mkdir(parents=True, exist_ok=True)
    pages = 0
    for i in range(n):
        if scans_every and i % scans_every == scans_every - 1:
            docgen.scanned_pdf(
                folder / f"doc{i:05d}.pdf",
                [[f"SCANNED NOTE {i}", f"Document {i} is a scan of a memo.", f"The scanned budget line {i} is {100 * i} EUR."]],
            )
            pages += 1
            continue
        count = 1 + i % 3
        docgen.simple_pdf(
            folder / f"doc{i:05d}.pdf",
            [
                (
                    f"Section {i}.{p}",
                    [
                        f"Document {i} page {p}: the budget line {i}-{p} is {100 * i + p} EUR.",
                        f"The lookup code of document {i} on page {p} is K{i}P{p}; it is listed for audits.",
                    ],
                )
                for p in range(1, count + 1)
            ],
            title=f"Report {i}",
        )
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


class MachineWatch:
    """Load average and the CPU seconds of processes outside this benchmark's tree, sampled every second."""

    def __init__(self):
        import psutil

        self.psutil, self.me = psutil, os.getpid()
        self.stop, self.loads, self.last = threading.Event(), [], {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _ours(self) -> set[int]:
        try:
            return {self.me} | {p.pid for p in self.psutil.Process(self.me).children(recursive=True)}
        except self.psutil.Error:
            return {self.me}

    def _sample(self) -> None:
        self.loads.append(os.getloadavg()[0])
        ours = self._ours()
        for p in self.psutil.process_iter(["pid", "cpu_times"]):
            if p.info["pid"] in ours or p.info["cpu_times"] is None:
                continue
            self.last[p.info["pid"]] = p.info["cpu_times"].user + p.info["cpu_times"].system

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            self._sample()

    def __enter__(self):
        self.t0 = time.perf_counter()
        self._sample()
        self.baseline = dict(self.last)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._sample()
        seconds = time.perf_counter() - self.t0
        # processes seen at the start count from then; those started later count from zero
        foreign = sum(t - self.baseline.get(pid, 0.0) for pid, t in self.last.items())
        self.result = {
            "seconds": round(seconds, 1),
            "load_avg_mean": round(statistics.mean(self.loads), 2),
            "load_avg_max": round(max(self.loads), 2),
            "foreign_cpu_s": round(foreign, 1),
            "foreign_cores_busy": round(foreign / seconds, 2) if seconds else None,
        }


def start_server(data: Path, env: dict, log: Path):
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [*RAG, "--data-dir", str(data), "serve", "--port", str(port), "--no-warm-up"],
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=300) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        client.post("/v1/search", json={"question": "warm up the embedder"})
    return proc, base


class Querier:
    """Sends searches one after another (0.1 s apart) while a load runs; then as many again, idle (unless `idle`
    was measured before the load)."""

    def __init__(self, base: str, idle: list[float] | None = None):
        self.base, self.during, self.idle, self.stop = base, [], idle, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=300) as c:
            i = 0
            while not self.stop.is_set():
                t = time.perf_counter()
                c.post("/v1/search", json={"question": QUESTIONS[i % len(QUESTIONS)], "k": 5})
                self.during.append((time.perf_counter() - t) * 1000)
                i += 1
                time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def summary(self) -> dict:
        idle = self.idle if self.idle is not None else search_times(self.base, max(30, len(self.during)))
        out = {
            name: {"n": len(v), "p50_ms": round(statistics.median(v), 1), "p95_ms": round(percentile(v, 0.95), 1)}
            for name, v in (("during", self.during), ("idle", idle))
            if v
        }
        if "during" in out:
            out["p95_ratio_during_vs_idle"] = round(out["during"]["p95_ms"] / out["idle"]["p95_ms"], 2)
        return out


def search_times(base: str, n: int) -> list[float]:
    """Milliseconds of `n` searches sent one after another, 0.1 s apart."""
    import httpx

    times = []
    with httpx.Client(base_url=base, timeout=300) as c:
        for i in range(n):
            t = time.perf_counter()
            c.post("/v1/search", json={"question": QUESTIONS[i % len(QUESTIONS)], "k": 5})
            times.append((time.perf_counter() - t) * 1000)
            time.sleep(0.1)
    return times


def stop_all(procs) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=60)


def bulk_cli(corpus: Path, data: Path, processes: int, env: dict) -> dict:
    """`rag ingest` of the whole folder as one command, with a server answering searches meanwhile."""
    logs = data.parent / f"logs-cli-{processes}"
    logs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [*RAG, "--data-dir", str(data), "ingest", str(corpus), "--collection", "base", "--quiet"],
        env=env,
        check=True,
        capture_output=True,
    )
    server, base = start_server(data, env, logs / "server.log")
    try:
        idle = search_times(base, 150)
        with MachineWatch() as watch, Querier(base, idle) as querier:
            t0 = time.perf_counter()
            done = subprocess.run(
                [
                    *RAG,
                    "--data-dir",
                    str(data),
                    "ingest",
                    str(corpus),
                    "--collection",
                    "bulk",
                    "--processes",
                    str(processes),
                    "--json",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - t0
        (logs / "ingest.log").write_text(done.stderr)
        report = json.loads(done.stdout)
        queries = querier.summary()
    finally:
        stop_all([server])
    files, pages = len(report["files"]), report["pages"]
    return {
        "kind": "rag ingest",
        "processes": processes,
        "files": files,
        "ok": report["counts"]["ok"],
        "failed": report["counts"]["failed"],
        "pages": pages,
        "seconds": round(seconds, 1),
        "ingest_seconds": report["seconds"],
        "files_per_s": round(files / seconds, 2),
        "pages_per_s": round(pages / seconds, 2),
        "queries": queries,
        "machine": watch.result,
    }


def bulk_jobs(corpus: Path, data: Path, workers: int, threads: int, env: dict, measure_queries: bool) -> dict:
    import httpx

    logs = data.parent / f"logs-jobs-{workers}"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(env, RAG_INGEST__ALLOWED_ROOTS=json.dumps([str(corpus)]), RAG_JOBS__INFERENCE_THREADS=str(threads))
    server, base = start_server(data, env, logs / "server.log")
    procs = [
        subprocess.Popen(
            [*RAG, "--data-dir", str(data), "worker"],
            stdout=open(logs / f"worker{k}.log", "w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        for k in range(workers)
    ]
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            for k in range(workers):  # the worker prints its line once the embedder is loaded
                while "unfinished jobs re-queued" not in (logs / f"worker{k}.log").read_text():
                    time.sleep(0.5)
            files = sorted(str(p) for p in corpus.glob("*.pdf"))
            groups = [files[i::8] for i in range(8)]
            querier = Querier(base) if measure_queries else None
            with MachineWatch() as watch:
                t0 = time.perf_counter()
                ids = [client.post("/v1/documents", json={"paths": g, "collection": "bulk"}).json()["id"] for g in groups]
                if querier:
                    querier.__enter__()
                pending = set(ids)
                while pending:
                    for job_id in list(pending):
                        if client.get(f"/v1/jobs/{job_id}").json()["state"] in ("done", "failed", "cancelled"):
                            pending.discard(job_id)
                    time.sleep(0.5)
                seconds = time.perf_counter() - t0
                if querier:
                    querier.__exit__()
            jobs = [client.get(f"/v1/jobs/{j}").json() for j in ids]
            queries = querier.summary() if querier else None
    finally:
        stop_all([*procs, server])
    pages = sum(f["pages"] for j in jobs for f in j["files"])
    result = {
        "kind": "jobs",
        "workers": workers,
        "inference_threads": threads,
        "files": len(files),
        "ok": sum(j["counts"]["ok"] for j in jobs),
        "failed": sum(j["counts"]["failed"] for j in jobs),
        "pages": pages,
        "seconds": round(seconds, 1),
        "files_per_s": round(len(files) / seconds, 2),
        "pages_per_s": round(pages / seconds, 2),
        "machine": watch.result,
    }
    if queries:
        result["queries"] = queries
    return result


def reindex_ratio(corpus: Path, data: Path) -> dict:
    from tests.helpers import docgen

    os.environ["RAG_DATA_DIR"] = str(data)
    from ingest.jobs.reindex import reindex
    from rag.core.settings import Settings, Source
    from rag.service.services import Services

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
    with MachineWatch() as watch:
        t0 = time.perf_counter()
        incremental = reindex(services, sources)
        incremental_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        full = reindex(services, sources, full=True)
        full_s = time.perf_counter() - t0
    return {
        "files": len(files),
        "changed": len(changed),
        "nothing_changed_s": round(unchanged_s, 2),
        "nothing_changed_counts": first.as_dict()["counts"],
        "incremental_s": round(incremental_s, 2),
        "incremental_counts": incremental.as_dict()["counts"],
        "full_s": round(full_s, 2),
        "full_counts": full.as_dict()["counts"],
        "ratio_incremental_vs_full": round(incremental_s / full_s, 4),
        "machine": watch.result,
    }


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--scans-every", type=int, default=0, help="Every K-th document a one-page scan (0: none).")
    parser.add_argument("--parts", default="cli,jobs,reindex", help="Which parts to run (comma separated).")
    parser.add_argument("--processes", default="1,2", help="`rag ingest --processes` values (part cli).")
    parser.add_argument("--workers", default="1,2", help="`rag worker` counts (part jobs).")
    parser.add_argument(
        "--worker-threads", type=int, default=None, help="Inference threads of each worker (default: cores / workers)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",")}
    setup_env()
    env = dict(os.environ, RAG_JOBS__PUBLISH_EVERY="50", RAG_JOBS__POLL_MAX_S="0.5", RAG_AUTH__RATE_PER_MIN="0")
    env.pop("RAG_GENERATOR__MODEL", None)
    tmp = Path(tempfile.mkdtemp(prefix="rag-ops-bench-"))
    try:
        corpus = tmp / "corpus"
        t0 = time.perf_counter()
        pages = make_corpus(corpus, args.docs, args.scans_every)
        print(f"generated {args.docs} PDFs, {pages} pages in {time.perf_counter() - t0:.0f}s", flush=True)
        loads = []
        if "cli" in parts:
            for p in _ints(args.processes):
                loads.append(bulk_cli(corpus, tmp / f"data-cli-{p}", p, env))
                print(json.dumps(loads[-1]), flush=True)
        workers = _ints(args.workers) if "jobs" in parts else []
        from rag.core.threads import share

        for i, w in enumerate(workers):
            threads = args.worker_threads if args.worker_threads is not None else (share(w) if w > 1 else 0)
            loads.append(bulk_jobs(corpus, tmp / f"data-{w}", w, threads, env, measure_queries=(i == 0)))
            print(json.dumps(loads[-1]), flush=True)
        re = reindex_ratio(corpus, tmp / f"data-{workers[-1]}") if "reindex" in parts and workers else None
        if re:
            print(json.dumps(re), flush=True)
        print(
            table(
                ["how", "files", "pages", "seconds", "files/s", "pages/s", "load avg", "other CPU s"],
                [
                    [
                        f"{r['kind']} x{r.get('processes') or r.get('workers')}",
                        r["files"],
                        r["pages"],
                        r["seconds"],
                        r["files_per_s"],
                        r["pages_per_s"],
                        r["machine"]["load_avg_mean"],
                        r["machine"]["foreign_cpu_s"],
                    ]
                    for r in loads
                ],
                title="Bulk ingestion",
            )
        )
        for r in loads:
            q = r.get("queries")
            if q:
                print(
                    f"{r['kind']} x{r.get('processes') or r.get('workers')}: search p95 during the load "
                    f"{q['during']['p95_ms']} ms vs idle {q['idle']['p95_ms']} ms: ratio {q['p95_ratio_during_vs_idle']}"
                )
        if re:
            print(
                f"re-index with {re['changed']} of {re['files']} files changed: {re['incremental_s']} s; full rebuild "
                f"{re['full_s']} s; ratio {re['ratio_incremental_vs_full']}"
            )
        path = write_result(
            "ops_bulk", {"env": env_info(), "docs": args.docs, "scans_every": args.scans_every, "loads": loads, "reindex": re}
        )
        print(f"wrote {path}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
