"""Parse speed: born-digital and scanned pages/s, per worker count, against plain pypdf on the same pages;
peak RSS of parsing a 1,000-page PDF in its own process.

    .venv/bin/python bench/parse_speed.py [--pages 200] [--scanned 6] [--big 1000] [--workers 1,2]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, env_info, setup_env, table, write_result  # noqa: E402


def pypdf_seconds(path: Path) -> float:
    from pypdf import PdfReader

    t0 = time.perf_counter()
    reader = PdfReader(str(path))
    for page in reader.pages:
        page.extract_text()
    return time.perf_counter() - t0


def parse_seconds(path: Path, workers: int, ocr=None) -> tuple[float, int]:
    from ingest.parse.pdf import parse_pdf

    t0 = time.perf_counter()
    doc = parse_pdf(path, ocr, workers)
    return time.perf_counter() - t0, len(doc.pages)


def big_parse_rss(path: Path, workers: int) -> dict:
    """`rag parse` of the big PDF in a child process; peak RSS of it plus its workers, polled every 50 ms."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "rag"), "parse", str(path), "-w", str(workers), "-o", str(path.with_suffix(".html"))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            rss = watched.memory_info().rss + sum(c.memory_info().rss for c in watched.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "rc": proc.returncode,
        "peak_rss_mib": round(peak / 2**20, 1),
        "html_mib": round(path.with_suffix(".html").stat().st_size / 2**20, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--scanned", type=int, default=6)
    ap.add_argument("--big", type=int, default=1000)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    setup_env()
    from ingest.parse.scan import ScanReader
    from tests.helpers import docgen

    workers = [int(w) for w in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-parse-"))
    digital = docgen.long_pdf(tmp / "digital.pdf", args.pages)
    lines = ["MAINTENANCE REPORT"] + [f"Unit {i} passed inspection {i} with a pressure of {90 + i} bar." for i in range(18)]
    scanned = docgen.scanned_pdf(tmp / "scanned.pdf", [lines] * args.scanned)
    results: dict = {"digital": [], "scanned": []}
    base = pypdf_seconds(digital)
    rows = [["pypdf extract_text (baseline)", 1, f"{args.pages / base:.1f}", "1.0"]]
    for w in workers:
        secs, n = parse_seconds(digital, w)
        results["digital"].append(
            {"workers": w, "seconds": round(secs, 3), "pages_per_s": round(n / secs, 2), "x_pypdf": round(secs / base, 2)}
        )
        rows.append([f"born-digital parse ({n} pages)", w, f"{n / secs:.1f}", f"{secs / base:.1f}x slower"])
    ocr = ScanReader()
    ocr.ocr.warm_up()
    base_scan = pypdf_seconds(scanned)
    for w in workers:
        secs, n = parse_seconds(scanned, w, ocr)
        results["scanned"].append({"workers": w, "seconds": round(secs, 3), "pages_per_s": round(n / secs, 3)})
        rows.append([f"scanned parse, OCR ({n} pages, 200 dpi)", w, f"{n / secs:.2f}", f"pypdf finds no text ({base_scan:.2f}s)"])
    print(table(["run", "workers", "pages/s", "vs pypdf"], rows, title="Parse speed"))
    big = docgen.long_pdf(tmp / "big.pdf", args.big)
    results["big"] = [big_parse_rss(big, w) for w in workers]
    print(
        table(
            ["pages", "workers", "seconds", "pages/s", "peak RSS MiB"],
            [[args.big, r["workers"], r["seconds"], f"{args.big / r['seconds']:.1f}", r["peak_rss_mib"]] for r in results["big"]],
            title=f"{args.big}-page PDF through `rag parse` (child process)",
        )
    )
    results["baseline_pypdf_pages_per_s"] = round(args.pages / base, 1)
    write_result("parse_speed", {"benchmark": "parse_speed", "params": vars(args), "results": results, "env": env_info()})


if __name__ == "__main__":
    main()
