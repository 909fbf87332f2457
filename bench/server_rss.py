"""Memory of the REST server: RSS after start-up (models warmed up) and after answering questions.

Steps: ingest examples/ through the CLI (`rag --data-dir TMP ingest examples/`) into a temporary data dir,
start `rag --data-dir TMP serve --port FREE_PORT` (the app warms up every model before it accepts
connections), wait for GET /healthz, read the server's memory, send --asks POST /v1/ask requests, read it
again. Memory comes from psutil (rss, uss where readable) and, on Linux, /proc/PID/status (VmRSS and
VmHWM, the peak). The server is always terminated at the end.

Run:  .venv/bin/python bench/server_rss.py [--asks 3] [--model NAME]
Writes bench/out/server_rss.json. Reports numbers only; it never fails because something was slow.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, env_info, examples_dir, peak_rss_mib, setup_env, table, write_result  # noqa: E402

QUESTIONS = [
    "How many days of paid annual leave does an employee get per year?",
    "What was the electricity output of Fjordvik hydro in Q4 2024?",
    "Where is the fire assembly point?",
    "What is the daily meal allowance on business trips within Europe?",
    "What are the core working hours?",
]


def rag_cmd() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "rag"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "api.cli.commands"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict:
    """VmRSS / VmHWM / VmPeak from /proc (Linux), in MiB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "VmPeak", "VmSize"):
                out[key] = round(int(value.split()[0]) / 1024, 1)  # kB
    except (OSError, ValueError):
        pass
    return out


def memory(pid: int) -> dict:
    """RSS of the server (and of any child processes it started), in MiB."""
    import psutil

    p = psutil.Process(pid)
    mi = p.memory_info()
    data = {"rss_mib": round(mi.rss / 2**20, 1), "vms_mib": round(mi.vms / 2**20, 1)}
    try:
        data["uss_mib"] = round(p.memory_full_info().uss / 2**20, 1)
    except (psutil.AccessDenied, AttributeError, OSError):
        pass
    kids = p.children(recursive=True)
    if kids:
        data["children_rss_mib"] = round(sum(k.memory_info().rss for k in kids) / 2**20, 1)
    data.update(proc_status(pid))
    return data


def wait_healthy(client, base: str, proc: subprocess.Popen, timeout: float, log: Path) -> float:
    import httpx

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was healthy:\n{log.read_text()[-3000:]}")
        try:
            if client.get(f"{base}/healthz", timeout=2).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server not healthy after {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> int | None:
    """SIGTERM, then SIGKILL after 30 s. uvicorn re-raises SIGTERM after a clean shutdown, so -15 is normal."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--asks", type=int, default=3, help="POST /v1/ask requests to send (default 3)")
    ap.add_argument("--limit", type=int, default=None, help="alias of --asks (for quick checks)")
    ap.add_argument("--model", default=None, help="generator model (sets RAG_GENERATOR__MODEL for the server)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for /healthz (default 600)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir and server log")
    args = ap.parse_args()
    n_asks = args.limit if args.limit is not None else args.asks
    setup_env()
    import httpx

    env = dict(os.environ)
    env.pop("RAG_DATA_DIR", None)  # --data-dir is given explicitly
    if args.model:
        env["RAG_GENERATOR__MODEL"] = args.model
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-"))
    data_dir, log = tmp / "data", tmp / "server.log"
    proc = None
    result: dict = {"benchmark": "server_rss", "params": {"asks": n_asks, "model": args.model}}
    try:
        t0 = time.perf_counter()
        ing = subprocess.run(
            rag_cmd() + ["--data-dir", str(data_dir), "ingest", str(examples_dir(tmp))],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        ingest_s = time.perf_counter() - t0
        if ing.returncode != 0:
            raise SystemExit(f"rag ingest failed ({ing.returncode}):\n{ing.stdout}\n{ing.stderr}")
        ingest_peak = peak_rss_mib()["children_mib"]  # the only child waited for so far
        print(f"ingest (CLI): {ing.stdout.strip()}  [{ingest_s:.1f}s, peak RSS {ingest_peak:.0f} MiB]")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(log, "w") as fh:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                rag_cmd() + ["--data-dir", str(data_dir), "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        with httpx.Client() as client:
            ready_s = wait_healthy(client, base, proc, args.timeout, log)
            print(f"server pid {proc.pid} healthy on port {port} after {ready_s:.1f}s (models warmed up)")
            info = client.get(f"{base}/v1/info", timeout=30).json()
            after_warm = memory(proc.pid)

            asks = []
            for i in range(n_asks):
                q = QUESTIONS[i % len(QUESTIONS)]
                t = time.perf_counter()
                r = client.post(f"{base}/v1/ask", json={"question": q}, timeout=900)
                ms = (time.perf_counter() - t) * 1000
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                asks.append(
                    {
                        "question": q,
                        "status": r.status_code,
                        "client_ms": round(ms, 1),
                        "answer": body.get("answer", r.text[:200]),
                        "server_total_ms": (body.get("timings_ms") or {}).get("total_ms"),
                        "rss_mib": memory(proc.pid)["rss_mib"],
                    }
                )
            after_asks = memory(proc.pid)

        print()
        print(
            table(
                ["#", "status", "client ms", "server ms", "RSS MiB", "answer"],
                [
                    [i, a["status"], a["client_ms"], a["server_total_ms"], a["rss_mib"], " ".join(str(a["answer"]).split())[:70]]
                    for i, a in enumerate(asks, 1)
                ],
                title=f"POST /v1/ask x{n_asks}",
            )
        )
        rows = [
            [
                "after warm-up (before asks)",
                after_warm["rss_mib"],
                after_warm.get("uss_mib"),
                after_warm.get("VmHWM"),
                after_warm["vms_mib"],
            ],
            ["after asks", after_asks["rss_mib"], after_asks.get("uss_mib"), after_asks.get("VmHWM"), after_asks["vms_mib"]],
        ]
        print()
        print(
            table(
                ["server memory (MiB)", "RSS", "USS", "peak (VmHWM)", "VMS"],
                rows,
                title=f"Server: {info.get('settings', {}).get('generator')} + "
                f"{info.get('settings', {}).get('embedder')}; index {(info.get('index') or {}).get('vectors')} "
                f"vectors, {(info.get('index') or {}).get('documents')} documents",
            )
        )
        growth = after_asks["rss_mib"] - after_warm["rss_mib"]
        print(f"\nRSS growth during the asks: {growth:+.0f} MiB; peak (VmHWM) {after_asks.get('VmHWM', '-')} MiB")
        result.update(
            {
                "ingest": {"seconds": round(ingest_s, 2), "stdout": ing.stdout.strip(), "peak_rss_mib": ingest_peak},
                "server": {
                    "pid": proc.pid,
                    "ready_s": round(ready_s, 2),
                    "info_settings": info.get("settings"),
                    "index": info.get("index"),
                    "after_warm_up": after_warm,
                    "after_asks": after_asks,
                    "rss_growth_mib": round(growth, 1),
                    "peak_mib": after_asks.get("VmHWM"),
                },
                "asks": asks,
            }
        )
    finally:
        if proc is not None:
            rc = stop(proc)
            result.setdefault("server", {})["exit_code"] = rc
        rss = peak_rss_mib()  # children now includes the server, once waited for
        result["peak_rss"] = rss
        print(
            f"server stopped (exit {result.get('server', {}).get('exit_code')}); peak RSS: this script "
            f"{rss['self_mib']:.0f} MiB, children (ingest CLI, server) {rss['children_mib']:.0f} MiB"
        )
        if args.keep:
            print(f"kept {tmp} (server log {log})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    result["env"] = env_info()
    print(f"wrote {write_result('server_rss', result)}")


if __name__ == "__main__":
    main()
