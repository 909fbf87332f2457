"""Parse speed: born-digital and scanned pages/s, per worker count, against plain pypdf on the same pages;
peak RSS of parsing a 1,000-page PDF in its own process.

    .venv/bin/python bench/parse_speed.py [--pages 200] [--scanned 6] [--big 1000] [--workers 1,2]
    .venv/bin/python bench/parse_speed.py --real ../shared/data/financebench-dev/pdfs --files 5

The generated born-digital pages are parsed without the OCR reader, so without the table model; `--real` parses real
files with it on and off (and pypdf on the same files) and prints where the time goes.
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


def real_files(folder: Path, limit: int) -> dict:
    """Born-digital parse of real PDFs (the first `limit` by name) in this process, one page range, with the table
    model on (the default) and off, against pypdf text extraction of the same files in this run; seconds per stage."""
    import resource

    from ingest.parse.pdf import parse_pdf
    from ingest.parse.scan import ScanReader
    from ingest.parse.timing import add

    files = sorted(folder.glob("*.pdf"))[:limit]
    reader = ScanReader()
    reader.regions(__import__("PIL.Image").Image.new("RGB", (64, 64), "white"))  # load the models before timing
    runs: dict = {
        "pypdf": {"seconds": 0.0},
        "model on": {"seconds": 0.0, "stages": {}},
        "model off": {"seconds": 0.0, "stages": {}},
    }
    pages = 0
    for path in files:
        runs["pypdf"]["seconds"] += pypdf_seconds(path)
        for name, model in (("model on", True), ("model off", False)):
            t0 = time.perf_counter()
            doc = parse_pdf(path, reader, 1, model)
            runs[name]["seconds"] += time.perf_counter() - t0
            add(runs[name]["stages"], doc.stages)
        pages += len(doc.pages)
        print(f"{path.name}: {len(doc.pages)} pages", flush=True)
    rows = []
    for name, run in runs.items():
        rate = pages / run["seconds"]
        ratio = run["seconds"] / runs["pypdf"]["seconds"]
        rows.append(
            [name if name == "pypdf" else f"rag parse, table {name}", f"{run['seconds']:.1f}", f"{rate:.2f}", f"{ratio:.2f}x"]
        )
    print(
        table(["run", "seconds", "pages/s", "time vs pypdf"], rows, title=f"{len(files)} real PDFs, {pages} pages, one process")
    )
    for name in ("model on", "model off"):
        total = runs[name]["seconds"]
        stages = sorted(runs[name]["stages"].items(), key=lambda item: -item[1][0])
        print(
            table(
                ["stage", "seconds", "calls", "share"],
                [[stage, f"{sec:.2f}", calls, f"{sec / total:.1%}"] for stage, (sec, calls) in stages],
                title=f"where the time goes, table {name}",
            )
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")
    return {"files": [p.name for p in files], "pages": pages, "runs": runs, "peak_rss_mib": round(peak)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--scanned", type=int, default=6)
    ap.add_argument("--big", type=int, default=1000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--real", type=Path, help="a folder of real born-digital PDFs: time those instead (e.g. FinanceBench)")
    ap.add_argument("--files", type=int, default=5, help="with --real: how many of its PDFs (first by name)")
    args = ap.parse_args()
    setup_env()
    if args.real:
        results = real_files(args.real, args.files)
        write_result(
            "parse_speed_real", {"benchmark": "parse_speed_real", "params": vars(args), "results": results, "env": env_info()}
        )
        return
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
