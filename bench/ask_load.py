"""Answer latency under load, over HTTP: time to first token and total, p50/p95, with 1 and N concurrent clients.

Starts `rag serve` on a data dir that already holds documents (for realistic prompts: long filings whose
chunks are ~180 words), then streams `POST /v1/ask` (`"stream": true`) for each question: time to first
token = first `token` event, total = the `answer` event. Each configuration (model, k, threads) runs in its
own server process. With N clients, the service's gate runs one generation at a time, so the others queue:
the numbers show what a caller waits, queue included. A baseline in the same run: retrieval alone
(`POST /v1/search`), which is what an answer costs before the model.

Run:
  .venv/bin/python bench/ask_load.py --data-dir /tmp/fb-data --questions Q.jsonl --limit 12 \
      --configs "1.5b,k5;1.5b,k3;0.5b,k5" --clients 1,4
(`Q.jsonl`: records with "question"; e.g. ../shared/data/financebench-dev/questions.jsonl.)
Writes bench/out/ask_load.json. Reports timings only; it never fails because something was slow.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, table, write_result  # noqa: E402

MODELS = {"1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m", "0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir: str, env_extra: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, **env_extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "--data-dir", data_dir, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start")


def ask_stream(base: str, question: str, k: int) -> dict:
    t0 = time.perf_counter()
    first = None
    answer = None
    with httpx.stream("POST", f"{base}/v1/ask", json={"question": question, "k": k, "stream": True}, timeout=900) as r:
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
                if event == "token" and first is None:
                    first = time.perf_counter() - t0
            elif line.startswith("data: ") and event in ("answer", "error"):
                answer = json.loads(line[6:])
    total = time.perf_counter() - t0
    return {
        "ttft_s": first,
        "total_s": total,
        "refused": bool(answer and answer.get("refused")),
        "error": answer.get("detail") if answer and "detail" in answer else None,
        "prompt_tokens": (answer or {}).get("timings_ms", {}).get("prompt_tokens"),
    }


def run_clients(base: str, questions: list[str], k: int, clients: int) -> list[dict]:
    """Each client asks its share of the questions one after another; all clients start together."""
    results: list[dict] = []
    lock = threading.Lock()

    def client(share: list[str]):
        for q in share:
            r = ask_stream(base, q, k)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client, args=(questions[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def pct(values: list[float], p: float) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--configs", default="1.5b,k5;0.5b,k5", help="';'-separated: model (1.5b|0.5b),kN[,tN threads]")
    ap.add_argument("--clients", default="1,4")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in open(args.questions) if line.strip()][: args.limit]
    rows, out = [], {"env": env_info(), "questions": len(questions), "runs": []}
    for config in args.configs.split(";"):
        parts = config.split(",")
        model, k = MODELS[parts[0]], int(parts[1][1:])
        env = {"RAG_GENERATOR__MODEL": model}
        threads = next((p[1:] for p in parts[2:] if p.startswith("t")), None)
        if threads:
            env["RAG_GENERATOR__THREADS"] = threads
        env["RAG_SERVING__QUEUE_SIZE"] = "64"
        env["RAG_SERVING__QUEUE_TIMEOUT_S"] = "3600"
        env["RAG_GENERATOR__TIMEOUT_S"] = "3600"
        proc, base = start(args.data_dir, env)
        try:
            ask_stream(base, questions[0], k)  # warm-up: the first call pays the shared prompt prefix
            t0 = time.perf_counter()
            for q in questions:
                httpx.post(f"{base}/v1/search", json={"question": q, "k": k}, timeout=60)
            search_ms = (time.perf_counter() - t0) / len(questions) * 1000
            for n in map(int, args.clients.split(",")):
                res = run_clients(base, questions, k, n)
                ttft, total = [r["ttft_s"] for r in res], [r["total_s"] for r in res]
                row = [
                    config,
                    n,
                    round(search_ms, 1),
                    pct(ttft, 50),
                    pct(ttft, 95),
                    pct(total, 50),
                    pct(total, 95),
                    statistics.median([r["prompt_tokens"] or 0 for r in res]),
                    sum(r["refused"] for r in res),
                    sum(bool(r["error"]) for r in res),
                ]
                rows.append(row)
                out["runs"].append({"config": config, "clients": n, "search_ms": search_ms, "results": res})
                print(
                    table(
                        [
                            "config",
                            "clients",
                            "search ms",
                            "ttft p50 s",
                            "ttft p95 s",
                            "total p50 s",
                            "total p95 s",
                            "prompt tok",
                            "refused",
                            "errors",
                        ],
                        [row],
                    ),
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(
        table(
            [
                "config",
                "clients",
                "search ms",
                "ttft p50 s",
                "ttft p95 s",
                "total p50 s",
                "total p95 s",
                "prompt tok",
                "refused",
                "errors",
            ],
            rows,
            title="\nAll runs",
        )
    )
    print(f"wrote {write_result('ask_load', out)}")


if __name__ == "__main__":
    main()
