"""The web app's latency: time to first token in the browser against over plain HTTP for the same question, and page
images rendered cold against served from the cache.

Ingests examples/ into a temporary data dir (`rag ingest`), starts `rag serve` on it (loopback, no key) and drives
the app in Debian's headless Chromium (Selenium, `chromium` + `chromium-driver`; nothing is downloaded).

- Time to first token: for each question, once in the browser (typed into the app, Enter; from the submit to the
  first `token` event on screen, the app's own `performance.now()` marks) and once with `curl -N` (from starting
  it to the first `token` event on its output), in alternating order, before each another question (so
  llama.cpp's prompt cache never holds the measured prompt). On this shared 2-core machine the model's prefill
  varies by seconds from one call to the next, so each is also set against the service's own first-token time of
  the same call (`timings_ms.first_token_ms`: retrieval and the model's first piece, in the process): what the
  client adds is its time to first token minus that, for the browser and for curl alike; the UI adds the
  difference of the two. Each measured question starts once no generation runs or waits (`GET /v1/info`'s
  `serving`), so neither waits in the queue.
- Page images: every page of the ingested documents at the default resolution, fetched cold (rendered) and then
  again (from the disk cache): wall milliseconds and the server's own `Server-Timing`; the cache's hits and misses
  over the whole run (the viewer's own page loads included).

Run:  .venv/bin/python bench/ui_latency.py [--model NAME] [--rounds N]
Writes bench/out/ui_latency.json; with --screenshots, bench/out/ui/latency-*.png. Reports, never fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import OUT_DIR, env_info, examples_dir, median, setup_env, table, write_result  # noqa: E402

QUESTIONS = [
    "What is the daily meal allowance on business trips within Europe?",
    "What are the core working hours?",
    "What was the electricity output of Fjordvik hydro in Q4 2024?",
    "Where is the fire assembly point?",
]
FILLERS = [
    "How many days of paid annual leave does an employee get per year?",
    "For how many weeks is parental leave paid at full salary?",
    "Which class may be booked on flights longer than 6 hours?",
    "How many unused leave days can be carried over into the next year?",
]


def rag(data: Path, *args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "api", "--data-dir", str(data), *args], check=True, env=env, capture_output=True)


def http_first_token(base: str, question: str, whole: bool = True) -> tuple[float, float | None]:
    """Milliseconds from sending the question to the first token event parsed, and the service's own first-token
    time from the answer event (`whole`; else the stream is closed at the first token, which stops the generation)."""
    import httpx

    t0 = time.perf_counter()
    first = None
    with httpx.Client(timeout=300) as client:
        with client.stream("POST", f"{base}/v1/ask", json={"question": question, "stream": True}) as r:
            r.raise_for_status()
            event = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "token" and first is None:
                    first = (time.perf_counter() - t0) * 1000
                    if not whole:
                        return first, None
                elif line.startswith("data:") and event == "answer" and first is not None:
                    return first, json.loads(line[5:])["timings_ms"].get("first_token_ms")
                elif line.startswith("data:") and event in ("answer", "error"):
                    raise RuntimeError(f"no token streamed: {line[:200]}")
    raise RuntimeError("the stream ended without an answer")


def wait_idle(base: str, timeout_s: float = 120) -> None:
    """Until no generation runs or waits (a stream stopped at its first token frees its slot at its next piece), so
    no measured question waits in the queue."""
    import httpx

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        serving = httpx.get(f"{base}/v1/info", timeout=30).json()["serving"]
        if serving["admitted"] == 0 and serving["waiting"] == 0:
            return
        time.sleep(0.05)


def curl_first_token(base: str, question: str) -> tuple[float, float | None]:
    """`curl -N` as a user would run it: milliseconds from starting it to the first token event on its output, and
    the service's own first-token time from the answer event."""
    body = json.dumps({"question": question, "stream": True})
    command = ["curl", "-sN", f"{base}/v1/ask", "-H", "content-type: application/json", "-d", body]
    t0 = time.perf_counter()
    first = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        event = ""
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "token" and first is None:
                first = (time.perf_counter() - t0) * 1000
            elif line.startswith("data:") and event == "answer" and first is not None:
                proc.wait()
                return first, json.loads(line[5:])["timings_ms"].get("first_token_ms")
            elif line.startswith("data:") and event in ("answer", "error"):
                raise RuntimeError(f"no token streamed: {line[:200]}")
    raise RuntimeError("the stream ended without an answer")


def browser_first_token(driver, base: str, question: str) -> tuple[float, float | None]:
    """The app's own mark, from the form's submit to the first token shown, and the service's first-token time
    from the answer it received."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "app").is_displayed())
    driver.find_element(By.ID, "question").send_keys(question, Keys.ENTER)
    marks = WebDriverWait(driver, 600, poll_frequency=0.05).until(
        lambda d: d.execute_script(
            "const a = document.querySelector('.answer');"
            "return a && (a.dataset.answerMs || a.dataset.error) ? [a.dataset.firstTokenMs, a.dataset.serverFirstTokenMs] : null"
        )
    )
    return float(marks[0]), float(marks[1]) if marks[1] else None


def page_images(base: str) -> list[dict]:
    import httpx

    rows = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for doc in client.get("/v1/documents").json():
            pages = client.get(f"/v1/documents/{doc['id']}/pages").json()
            if not pages["images"]:
                continue
            for page in pages["pages"]:
                url = f"/v1/documents/{doc['id']}/pages/{page['n']}.png"
                for attempt in ("cold", "cached"):
                    t0 = time.perf_counter()
                    r = client.get(url)
                    wall = (time.perf_counter() - t0) * 1000
                    server = float(r.headers.get("server-timing", "x;dur=0").split("dur=")[-1])
                    rows.append(
                        dict(
                            doc=doc["name"],
                            page=page["n"],
                            attempt=attempt,
                            cache=r.headers.get("x-page-cache"),
                            wall_ms=round(wall, 1),
                            server_ms=round(server, 1),
                            kb=round(len(r.content) / 1024, 1),
                            dpi=int(r.headers.get("x-page-dpi", 0)),
                        )
                    )
    return rows


def browser(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="generator model (default: the served model version)")
    ap.add_argument("--rounds", type=int, default=1, help="passes over the questions")
    ap.add_argument("--screenshots", action="store_true", help="save bench/out/ui/latency-*.png")
    args = ap.parse_args()
    setup_env()
    env = dict(os.environ, RAG_AUTH__REQUIRED="false", RAG_GENERATOR__MAX_TOKENS="24")
    if args.model:
        env["RAG_GENERATOR__MODEL"] = args.model
    from tests.helpers.apps import wait_ready
    from tests.helpers.servers import free_port

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        rag(data, "ingest", str(examples_dir(Path(tmp))), env=env)
        ingest_s = time.perf_counter() - t0
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "server.log", "w")
        server = subprocess.Popen(
            [sys.executable, "-m", "api", "--data-dir", str(data), "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        driver = None
        try:
            wait_ready(server, base, log.name)
            driver = browser()
            http_first_token(base, FILLERS[-1], whole=False)  # the model's first prompt (system prompt, example) once
            first = []
            for r in range(args.rounds):
                for i, q in enumerate(QUESTIONS):
                    order = ("browser", "curl") if (i + r) % 2 == 0 else ("curl", "browser")
                    row: dict = {"question": q}
                    for j, way in enumerate(order):
                        http_first_token(base, FILLERS[(2 * i + j) % len(FILLERS)], whole=False)  # another prompt cached
                        wait_idle(base)
                        ttft, served = browser_first_token(driver, base, q) if way == "browser" else curl_first_token(base, q)
                        row[f"{way}_ms"], row[f"{way}_served_ms"] = round(ttft, 1), served
                        row[f"{way}_adds_ms"] = round(ttft - served, 1) if served is not None else None
                    row["ui_adds_ms"] = round(row["browser_adds_ms"] - row["curl_adds_ms"], 1)
                    first.append(row)
                    print(
                        f"{q[:50]:50s} browser {row['browser_ms']:8.1f} ms (service {row['browser_served_ms']}) "
                        f"curl {row['curl_ms']:8.1f} ms (service {row['curl_served_ms']})",
                        flush=True,
                    )
            pages = page_images(base)
            if args.screenshots:
                shots = OUT_DIR / "ui"
                shots.mkdir(parents=True, exist_ok=True)
                driver.get(base + "/")
                time.sleep(1.0)
                driver.save_screenshot(str(shots / "latency-app.png"))
        finally:
            if driver is not None:
                driver.quit()
            server.terminate()
            server.wait(timeout=30)
            log.close()

    cold = [p for p in pages if p["attempt"] == "cold"]
    cached = [p for p in pages if p["attempt"] == "cached"]
    hits = sum(1 for p in pages if p["cache"] == "hit")
    summary = {
        "first_token_browser_ms": median([r["browser_ms"] for r in first]),
        "first_token_curl_ms": median([r["curl_ms"] for r in first]),
        "browser_adds_ms_median": median([r["browser_adds_ms"] for r in first]),
        "curl_adds_ms_median": median([r["curl_adds_ms"] for r in first]),
        "ui_adds_ms_median": median([r["ui_adds_ms"] for r in first]),
        "ui_adds_ms_max": max(r["ui_adds_ms"] for r in first),
        "page_cold_server_ms_median": median([p["server_ms"] for p in cold]),
        "page_cold_server_ms_max": max(p["server_ms"] for p in cold),
        "page_cold_wall_ms_median": median([p["wall_ms"] for p in cold]),
        "page_cached_server_ms_median": median([p["server_ms"] for p in cached]),
        "page_cached_wall_ms_median": median([p["wall_ms"] for p in cached]),
        "page_png_kb_median": median([p["kb"] for p in cold]),
        "page_cache_hit_rate": round(hits / len(pages), 3) if pages else None,
        "pages": len(cold),
        "ingest_s": round(ingest_s, 1),
    }
    print(
        table(
            ["question", "browser ms", "browser - service", "curl ms", "curl - service", "UI adds ms"],
            [
                [r["question"][:50], r["browser_ms"], r["browser_adds_ms"], r["curl_ms"], r["curl_adds_ms"], r["ui_adds_ms"]]
                for r in first
            ],
            "time to first token",
        )
    )
    print(
        table(
            ["doc", "page", "attempt", "cache", "server ms", "wall ms", "KB"],
            [[p["doc"], p["page"], p["attempt"], p["cache"], p["server_ms"], p["wall_ms"], p["kb"]] for p in pages],
            "page images",
        )
    )
    print(json.dumps(summary, indent=2))
    write_result(
        "ui_latency",
        {"env": env_info(), "model": args.model or "served version", "summary": summary, "first_token": first, "pages": pages},
    )


if __name__ == "__main__":
    main()
