"""Ingestion speed against a plain pypdf baseline, on a generated multi-page report.

Measures, on the same generated PDF and in the same run (median of --repeat runs each):
  (a) pypdf:  PdfReader(path).pages[i].extract_text() for every page (the floor: text only, no layout);
  (b) parse:  Ingestor(services).parse(path) + ingest.chunker.chunks_with (layout, reading order, chunks);
  (c) ingest: Ingestor(services).ingest_file(path) into a fresh data dir (parse + chunk + HTML + MiniLM
      embedding + SQLite + FAISS write). The embedder is warmed up once beforehand, so model loading is
      excluded from (c) and reported on its own line.

Run:  .venv/bin/python bench/ingest_speed.py [--pages 50] [--repeat 3]
Writes bench/out/ingest_speed.json. Reports timings only; it never fails because something was slow.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import env_info, median, peak_rss_mib, services_for, setup_env, table, write_result  # noqa: E402


def time_pypdf(path: Path) -> tuple[float, int]:
    from pypdf import PdfReader

    t0 = time.perf_counter()
    reader = PdfReader(str(path))
    chars = sum(len(reader.pages[i].extract_text() or "") for i in range(len(reader.pages)))
    return time.perf_counter() - t0, chars


def time_parse(services, path: Path) -> tuple[float, int, int]:
    from ingest.chunker import chunks_with
    from ingest.pipeline import Ingestor

    t0 = time.perf_counter()
    parsed = Ingestor(services).parse(path)
    chunks = chunks_with(parsed, "bench", services.settings.chunks)
    return time.perf_counter() - t0, len(parsed.pages), len(chunks)


def time_ingest(embedder, path: Path, tmp: Path, i: int) -> tuple[float, object]:
    from ingest.pipeline import Ingestor

    data_dir = tmp / f"data-{i}"
    services = services_for(data_dir)
    services.embedder = embedder  # reuse the warmed-up model: load time is measured separately
    t0 = time.perf_counter()
    result = Ingestor(services).ingest_file(path)
    seconds = time.perf_counter() - t0
    if result.status != "ok":
        raise SystemExit(f"ingest failed: {result.status} {result.reason}")
    shutil.rmtree(data_dir, ignore_errors=True)
    return seconds, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=50, help="pages of the generated PDF (default 50)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported (default 3)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (prints its path)")
    args = ap.parse_args()
    setup_env()

    import pdfplumber  # noqa: F401 - imported up front so import time is not counted in (b)
    import pypdf  # noqa: F401

    import ingest.pipeline  # noqa: F401
    from tests.helpers import docgen

    try:
        import faiss  # noqa: F401 - likewise for (c): the one-off import is not ingestion work
    except ImportError:
        pass

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    rss = {}
    try:
        pdf = docgen.long_pdf(tmp / f"report-{args.pages}p.pdf", args.pages)
        size_kb = pdf.stat().st_size / 1024
        print(f"generated {pdf.name}: {args.pages} pages, {size_kb:.0f} KiB; repeat {args.repeat}, median reported")

        pypdf_runs, parse_runs, ingest_runs = [], [], []
        chars = pages = n_chunks = 0
        for _ in range(args.repeat):
            s, chars = time_pypdf(pdf)
            pypdf_runs.append(s)
        rss["after_pypdf"] = peak_rss_mib()

        parse_services = services_for(tmp / "data-parse")
        for _ in range(args.repeat):
            s, pages, n_chunks = time_parse(parse_services, pdf)
            parse_runs.append(s)
        rss["after_parse"] = peak_rss_mib()

        embed_services = services_for(tmp / "data-warm")
        t0 = time.perf_counter()
        embed_services.embedder.warm_up()
        load_s = time.perf_counter() - t0
        embed_services.embedder.embed(["warm-up sentence"])  # first encode call has its own one-off cost
        rss["after_embedder_load"] = peak_rss_mib()

        result = None
        for i in range(args.repeat):
            s, result = time_ingest(embed_services.embedder, pdf, tmp, i)
            ingest_runs.append(s)
        rss["after_ingest"] = peak_rss_mib()

        a, b, c = median(pypdf_runs), median(parse_runs), median(ingest_runs)
        rows = [
            ["(a) pypdf extract_text", a * 1000, args.pages / a, 1.0, None],
            ["(b) parse + chunk", b * 1000, pages / b, b / a, n_chunks],
            ["(c) full ingest (embed+store)", c * 1000, result.pages / c, c / a, result.chunks],
        ]
        print()
        print(
            table(
                ["stage", "median ms", "pages/s", "x pypdf", "chunks"],
                rows,
                title=f"Ingestion speed, {args.pages}-page generated PDF (median of {args.repeat})",
            )
        )
        print()
        print(f"parse/pypdf:  {b / a:.1f} times slower than plain pypdf text extraction")
        print(f"ingest/pypdf: {c / a:.1f} times slower than plain pypdf text extraction")
        print(
            f"ingest - parse (HTML, embedding, SQLite, FAISS): {(c - b) * 1000:.0f} ms ({(c - b) / c * 100:.0f}% of full ingest)"
        )
        print(f"embedder model load (excluded from (c)): {load_s * 1000:.0f} ms")
        peak = rss["after_ingest"]
        print(
            f"peak RSS: self {peak['self_mib']:.0f} MiB (after pypdf {rss['after_pypdf']['self_mib']:.0f}, "
            f"after parse {rss['after_parse']['self_mib']:.0f}, after embedder load "
            f"{rss['after_embedder_load']['self_mib']:.0f}); children {peak['children_mib']:.0f} MiB"
        )

        data = {
            "benchmark": "ingest_speed",
            "params": {"pages": args.pages, "repeat": args.repeat, "pdf_kib": round(size_kb, 1)},
            "results": {
                "pypdf": {"runs_s": pypdf_runs, "median_s": a, "pages_per_s": args.pages / a, "chars": chars},
                "parse": {"runs_s": parse_runs, "median_s": b, "pages_per_s": pages / b, "pages": pages, "chunks": n_chunks},
                "ingest": {
                    "runs_s": ingest_runs,
                    "median_s": c,
                    "pages_per_s": result.pages / c,
                    "pages": result.pages,
                    "chunks": result.chunks,
                },
                "embedder_load_s": load_s,
                "ratios": {"parse_over_pypdf": b / a, "ingest_over_pypdf": c / a, "ingest_over_parse": c / b},
            },
            "peak_rss": rss,
            "env": env_info(),
        }
        print(f"wrote {write_result('ingest_speed', data)}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
