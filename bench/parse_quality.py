"""Parse quality on generated documents whose truth is known exactly (tests/helpers/parse_fixtures.py).

Builds the fixtures (born-digital PDFs: two- and three-column articles, ruled, unruled and two-page tables, a page
with figures; scans of two of them at 150/200/300 dpi, turned 90 and 180 degrees, skewed 3 degrees, noisy), then
scores our parser on them with `rag eval parse DIR --json` when that command exists, or else in this process
(Ingestor.parse + ingest.parse.html.to_html, scored with rag.evaluation.parse_scores). Per fixture: CER of the text in reading
order (headers and footers excluded), mean TEDS over the truth's tables (the i-th truth table against the i-th table
we found; a missing one scores 0), tables in truth/ours, seconds. Overall: mean CER of born-digital documents and of
scans, mean TEDS over the born-digital tables.

Then, on real PDFs with human table regions (`--real DIR`, by default ../shared/data/icdar2013-eu-dev when present: the
ICDAR 2013 EU dev set), table detection P/R/F1 and TEDS with the born-digital table model on and off in the same run.

Run:  .venv/bin/python bench/parse_quality.py [--out DIR] [--no-scans] [--inline] [--real DIR] [--real-only]
Writes bench/out/parse_quality.json. Reports scores only; it never fails because a score is low.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, env_info, setup_env, table, write_result  # noqa: E402

SCAN_PREFIX = "scan-"
TRUTH_SUFFIX = ".truth.html"


def rag_command() -> Path:
    """The `rag` console script of the running interpreter's environment (falls back to the repository venv)."""
    here = Path(sys.executable).parent / "rag"
    return here if here.exists() else ROOT / ".venv" / "bin" / "rag"


def cli_available(rag: Path) -> bool:
    """True when `rag eval parse` exists (both `rag eval --help` and `rag eval parse --help` exit 0)."""
    if not rag.exists():
        return False
    for args in (["eval", "--help"], ["eval", "parse", "--help"]):
        try:
            if subprocess.run([str(rag), *args], capture_output=True, timeout=120).returncode != 0:
                return False
        except (OSError, subprocess.TimeoutExpired):
            return False
    return True


def _json_from(stdout: str) -> dict:
    """The JSON object printed by the command (tolerates log lines before it)."""
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        start = stdout.find("\n{")
        return json.JSONDecoder().raw_decode(stdout[start + 1 if start >= 0 else stdout.find("{") :])[0]


def run_cli(rag: Path, folder: Path, data_dir: Path) -> list[dict]:
    """Per-fixture rows from `rag eval parse FOLDER --json`."""
    env = dict(os.environ, RAG_DATA_DIR=str(data_dir))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(rag), "eval", "parse", str(folder), "--json"], capture_output=True, text=True, env=env, timeout=3600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"rag eval parse exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    result = _json_from(proc.stdout)
    print(f"rag eval parse: {time.perf_counter() - t0:.1f} s for {len(result.get('fixtures', []))} fixtures")
    rows = []
    for r in result.get("fixtures", []):
        rows.append(
            {
                "name": r["name"],
                "cer": r.get("cer"),
                "teds": list(r.get("teds") or []),
                "teds_structure": list(r.get("teds_structure") or []),
                "tables_truth": r.get("tables_truth", 0),
                "tables_ours": r.get("tables_found", 0),
                "seconds": r.get("seconds"),
                "error": r.get("error", ""),
                "ocr": r.get("scanned"),
            }
        )
    return rows


def pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(document, truth) pairs of a fixture folder."""
    out = []
    for truth in sorted(folder.glob("*" + TRUTH_SUFFIX)):
        stem = truth.name[: -len(TRUTH_SUFFIX)]
        docs = [d for d in (truth.with_name(stem + s) for s in (".pdf", ".png")) if d.exists()]
        if docs:
            out.append((docs[0], truth))
    return out


def run_inline(folder: Path, data_dir: Path) -> list[dict]:
    """Per-fixture rows computed in this process: Ingestor.parse + to_html, scored with rag.evaluation.parse_scores."""
    from ingest.parse.html import to_html
    from ingest.pipeline import Ingestor
    from rag.core.settings import Settings
    from rag.evaluation.parse_scores import cer, html_text, tables_in, teds
    from rag.service.services import Services

    ingestor = Ingestor(Services(Settings(data_dir=data_dir)))
    rows = []
    for doc, truth_path in pairs(folder):
        truth = truth_path.read_text(encoding="utf-8")
        truth_tables = tables_in(truth)
        row = {
            "name": doc.name,
            "cer": 1.0,
            "teds": [0.0] * len(truth_tables),
            "teds_structure": [0.0] * len(truth_tables),
            "tables_truth": len(truth_tables),
            "tables_ours": 0,
            "seconds": 0.0,
            "error": "",
            "ocr": None,
        }
        t0 = time.perf_counter()
        try:
            parsed = ingestor.parse(doc)
            ours = to_html(parsed)
            ours_tables = tables_in(ours)
            row.update(
                cer=round(cer(html_text(truth), html_text(ours)), 4),
                tables_ours=len(ours_tables),
                ocr=any(p.source == "ocr" for p in parsed.pages),
                teds=[round(teds(t, ours_tables[i]), 4) if i < len(ours_tables) else 0.0 for i, t in enumerate(truth_tables)],
                teds_structure=[
                    round(teds(t, ours_tables[i], structure_only=True), 4) if i < len(ours_tables) else 0.0
                    for i, t in enumerate(truth_tables)
                ],
            )
        except Exception as exc:  # noqa: BLE001 - a fixture that fails is reported, not fatal
            row["error"] = f"{type(exc).__name__}: {exc}"
        row["seconds"] = round(time.perf_counter() - t0, 3)
        rows.append(row)
    return rows


REAL_TABLES = ROOT.parent / "shared" / "data" / "icdar2013-eu-dev"


def run_real(folder: Path, data_dir: Path) -> list[dict]:
    """`rag eval parse` on a folder of real PDFs with human table regions (tables.jsonl), with the born-digital table
    model on (the default) and off, in this run: detection P/R/F1 and TEDS of each, and the seconds it took."""
    from ingest.evaluation.table_regions import evaluate_regions
    from ingest.pipeline import Ingestor
    from rag.core.settings import Settings
    from rag.service.services import Services

    out = []
    for model in (True, False):
        settings = Settings(data_dir=data_dir)
        settings.parse.table_model = model
        t0 = time.perf_counter()
        result = evaluate_regions(folder, Ingestor(Services(settings)).parse)
        out.append({"table_model": model, "seconds": round(time.perf_counter() - t0, 1), **result["summary"]})
    return out


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.fmean(values), 4) if values else None


def summarise(rows: list[dict]) -> dict:
    """Overall scores; a fixture counts as a scan by its name (we made it), not by what the parser decided."""
    digital = [r for r in rows if not r["name"].startswith(SCAN_PREFIX)]
    scans = [r for r in rows if r["name"].startswith(SCAN_PREFIX)]
    return {
        "fixtures": len(rows),
        "born_digital": len(digital),
        "scans": len(scans),
        "cer_born_digital": _mean([r["cer"] for r in digital]),
        "cer_scans": _mean([r["cer"] for r in scans]),
        "teds_born_digital": _mean([t for r in digital for t in r["teds"]]),
        "teds_structure_born_digital": _mean([t for r in digital for t in r["teds_structure"]]),
        "teds_scans": _mean([t for r in scans for t in r["teds"]]),
        "errors": sum(bool(r["error"]) for r in rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write the fixtures here and keep them (default: a temporary folder)")
    ap.add_argument("--no-scans", action="store_true", help="born-digital fixtures only (much faster: no OCR)")
    ap.add_argument("--inline", action="store_true", help="score in this process even if `rag eval parse` exists")
    ap.add_argument(
        "--real",
        type=Path,
        default=REAL_TABLES if REAL_TABLES.is_dir() else None,
        help=f"real PDFs with human table regions (tables.jsonl); default {REAL_TABLES} when present",
    )
    ap.add_argument("--real-only", action="store_true", help="score the real table set only, not the generated fixtures")
    args = ap.parse_args()
    setup_env()

    from tests.helpers.parse_fixtures import build_fixtures

    tmp = Path(tempfile.mkdtemp(prefix="bench-parse-"))
    folder = args.out or tmp / "fixtures"
    real: list[dict] = []
    if args.real:
        real = run_real(args.real, tmp / "real-data")
        print(
            table(
                ["table model", "gold", "found", "P", "R", "F1", "TEDS", "TEDS matched", "simple", "spanning", "s"],
                [
                    [
                        "on" if r["table_model"] else "off",
                        r["gold_tables"],
                        r["predicted_tables"],
                        r["precision"],
                        r["recall"],
                        r["f1"],
                        r["teds"],
                        r["teds_matched"],
                        r["teds_simple"],
                        r["teds_spanning"],
                        r["seconds"],
                    ]
                    for r in real
                ],
                title=f"Real tables ({args.real.name}): detection by content match, TEDS with 0 for a miss",
            )
        )
        if args.real_only:
            path = write_result("parse_quality", {"benchmark": "parse_quality", "real": real, "env": env_info()})
            print(f"wrote {path}")
            shutil.rmtree(tmp, ignore_errors=True)
            return
    try:
        if args.out and folder.exists():  # a fixture left from an earlier run (say with scans) would be scored again
            for doc, truth in pairs(folder):
                doc.unlink()
                truth.unlink()
        t0 = time.perf_counter()
        docs = build_fixtures(folder, scans=not args.no_scans)
        print(f"built {len(docs)} fixtures in {folder} ({time.perf_counter() - t0:.1f} s)")

        rag = rag_command()
        engine = "cli" if not args.inline and cli_available(rag) else "inline"
        cli_error = ""
        if engine == "cli":
            try:
                rows = run_cli(rag, folder, tmp / "data")
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                cli_error = str(exc)
                print(f"`rag eval parse` failed, scoring in-process instead: {cli_error[:500]}")
                engine = "inline"
        if engine == "inline":
            print("scoring in-process (Ingestor.parse + to_html + rag.evaluation.parse_scores)")
            rows = run_inline(folder, tmp / "data")

        kinds = {r["name"]: "scan" if r["name"].startswith(SCAN_PREFIX) else "digital" for r in rows}
        print()
        print(
            table(
                ["fixture", "kind", "CER", "mean TEDS", "struct TEDS", "tables truth", "tables ours", "s", "error"],
                [
                    [
                        r["name"],
                        kinds[r["name"]],
                        r["cer"],
                        _mean(r["teds"]),
                        _mean(r["teds_structure"]),
                        r["tables_truth"],
                        r["tables_ours"],
                        r["seconds"],
                        r["error"][:60],
                    ]
                    for r in rows
                ],
                title=f"Parse quality ({engine}): CER lower is better, TEDS higher is better",
            )
        )
        summary = summarise(rows)
        print()
        print(f"mean CER, born-digital ({summary['born_digital']}): {summary['cer_born_digital']}")
        print(f"mean CER, scans ({summary['scans']}):        {summary['cer_scans']}")
        print(
            f"mean TEDS, born-digital tables: {summary['teds_born_digital']} "
            f"(structure only: {summary['teds_structure_born_digital']}); scans: {summary['teds_scans']}"
        )
        if summary["errors"]:
            print(f"{summary['errors']} fixture(s) failed to parse")
        path = write_result(
            "parse_quality",
            {
                "benchmark": "parse_quality",
                "engine": engine,
                "cli_error": cli_error or None,
                "fixtures_dir": str(folder) if args.out else None,
                "summary": summary,
                "real": real,
                "fixtures": rows,
                "env": env_info(),
            },
        )
        print(f"wrote {path}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
