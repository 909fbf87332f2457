"""Office, web, e-mail and text formats: units (pages, i.e. the layout's sections; slides; sheets) per second into
the layout HTML, per format, against a plain text extraction of the same files in the same run, and the peak RSS of
each format's reading in a process of its own.

    flock /tmp/cpu.lock .venv/bin/python bench/office_formats.py [--scale 1] [--repeat 3]

It also scores every format with `rag eval parse`'s scorer (CER, TEDS) on small generated files with known truth.

The files are generated (tests/helpers/office_docs.py, scaled up): a DOCX of 400 paragraphs under 20 headings, a
PPTX of 60 slides with notes, an XLSX of 20 sheets, HTML, Markdown, text, CSV and an e-mail of similar size, and
the legacy and OpenDocument files LibreOffice makes from them. The plain extraction is what a reader without
layout would do: every XML part of a ZIP package inflated and its tags stripped (DOCX/PPTX/XLSX/ODF), the UTF-16
and ASCII strings of an OLE2 file (DOC/PPT/XLS), the text with its tags stripped (RTF/HTML/others).
"""

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, env_info, median, table, write_result  # noqa: E402

TAGS = re.compile(rb"<[^>]*>")
OLE_STRINGS = re.compile(rb"(?:[\x20-\x7e]\x00){4,}|[\x20-\x7e]{4,}")


def plain_text(path: Path) -> int:
    """Characters of text extracted without any layout (see the module's doc)."""
    head = path.read_bytes()[:8]
    if head.startswith(b"PK"):
        with zipfile.ZipFile(path) as z:
            return sum(len(TAGS.sub(b" ", z.read(n))) for n in z.namelist() if n.endswith(".xml"))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return sum(len(m) for m in OLE_STRINGS.findall(path.read_bytes()))
    return len(TAGS.sub(b" ", path.read_bytes()))


def make_files(folder: Path, scale: int) -> dict[str, Path]:
    from tests.helpers import office_docs

    modern = office_docs.modern_set(folder / "small")  # for the e-mail and the formats not scaled below
    files = {
        "docx": office_docs.make_docx(folder / "policy.docx", paragraphs=400 * scale),
        "pptx": office_docs.make_pptx(folder / "review.pptx", extra_slides=57 * scale),
        "xlsx": office_docs.make_xlsx(folder / "budget.xlsx", extra_sheets=18 * scale),
    }
    paras = [f"Paragraph {i} of the guide explains how request number {i} is handled and by whom." for i in range(400 * scale)]
    body = "".join(f"<h2>Section {i // 20}</h2>" * (i % 20 == 0) + f"<p>{p}</p>" for i, p in enumerate(paras))
    (folder / "guide.html").write_text(f"<html><head><title>Guide</title><script>x()</script></head><body>{body}</body></html>")
    (folder / "guide.md").write_text(
        "".join(f"## Section {i // 20}\n\n" * (i % 20 == 0) + f"{p}\n\n" for i, p in enumerate(paras))
    )
    (folder / "guide.txt").write_text("\n\n".join(paras))
    (folder / "sites.csv").write_text(
        "Site,Month,Staff,Cost\n" + "".join(f"S{i % 50},M{i % 12},{i},{i * 3}\n" for i in range(5000 * scale))
    )
    files |= {
        "html": folder / "guide.html",
        "markdown": folder / "guide.md",
        "text": folder / "guide.txt",
        "csv": folder / "sites.csv",
    }
    files["eml"] = office_docs.make_eml(folder / "mail.eml", attachment=modern["docx"])
    legacy = office_docs.legacy_set(folder / "legacy", files)
    return files | legacy


def parse_quality(folder: Path) -> dict:
    """`rag eval parse` (CER of the text in reading order, TEDS of each table) on the small generated files of every
    format, legacy ones included, against truths written from what the generators put in."""
    from ingest.evaluation.parse import evaluate
    from ingest.formats.readers import read_document
    from ingest.parse.sniff import sniff
    from tests.helpers import office_docs

    modern = office_docs.modern_set(folder)
    files = modern | office_docs.legacy_set(folder, modern)
    office_docs.write_truths(files)
    return evaluate(folder, lambda p: read_document(p, sniff(p)))


def measure_one(kind: str, path: Path, repeat: int) -> dict:
    """In this (child) process: read `path` `repeat` times and extract its plain text as often."""
    from ingest.formats.readers import read_document
    from ingest.parse.html import to_html
    from ingest.parse.sniff import sniff

    assert sniff(path) == kind, (path, sniff(path))
    read_s, plain_s, units = [], [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        doc = read_document(path, kind)
        to_html(doc)
        read_s.append(time.perf_counter() - t0)
        units = len(doc.pages)
        t0 = time.perf_counter()
        plain_text(path)
        plain_s.append(time.perf_counter() - t0)
    return {
        "kind": kind,
        "units": units,
        "bytes": path.stat().st_size,
        "read_s": median(read_s),
        "plain_s": median(plain_s),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


UNIT = {"pptx": "slides", "ppt": "slides", "odp": "slides", "xlsx": "sheets", "xls": "sheets", "ods": "sheets"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one[0], Path(args.one[1]), args.repeat)))
        return
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        quality = parse_quality(Path(tmp) / "quality")
        files = make_files(Path(tmp), args.scale)
        for kind, path in files.items():
            out = subprocess.run(
                [sys.executable, __file__, "--one", kind, str(path), "--repeat", str(args.repeat)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            per_s = r["units"] / r["read_s"]
            rows.append(
                [
                    kind,
                    f"{r['units']} {UNIT.get(kind, 'pages')}",
                    round(r["bytes"] / 1024),
                    per_s,
                    r["units"] / r["plain_s"],
                    r["read_s"] * 1000,
                    r["plain_s"] * 1000,
                    r["peak_rss_mib"],
                ]
            )
    print(
        table(
            ["format", "units", "KiB", "units/s", "plain units/s", "read ms", "plain ms", "peak RSS MiB"],
            rows,
            "layout HTML against plain text extraction, same files, same run (median of repeats)",
        )
    )
    print(
        table(
            ["file", "CER", "TEDS (tables)"],
            [[r["name"], r["cer"], " ".join(f"{t:.2f}" for t in r["teds"]) or "-"] for r in quality["fixtures"]],
            f"`rag eval parse` on the generated files with known truth: {quality['summary']}",
        )
    )
    write_result(
        "office_formats",
        {"env": env_info(), "scale": args.scale, "repeat": args.repeat, "results": results, "quality": quality},
    )


if __name__ == "__main__":
    main()
