"""How much of the figures on FinanceBench-dev's evidence pages the parse puts into table rows.

Statements (balance sheets, income and cash-flow statements) are most of the evidence, and a figure the parse leaves
outside a table row is a figure whose row label and period a reader (or the model) has to guess. Each evidence page
is parsed with the page before it (continued tables, running titles; the table model off, as by default), chunked as
the service chunks it, and every number of three or more digits in its chunks is counted: inside a table row
("a | b | c") or not.

    .venv/bin/python bench/evidence_tables.py --questions ../shared/data/financebench-dev/questions.jsonl \\
        --pdfs ../shared/data/financebench-dev/pdfs [--out per_page.json]
"""

import argparse
import json
import logging
import re
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from ingest.chunker import chunk_document
from ingest.parse.pdf import parse_pdf

NUMBER = re.compile(r"\(?\$?\d[\d,]*(?:\.\d+)?\)?")


def page_counts(pdf: Path, page: int, work: Path) -> tuple[int, int]:
    """(numbers in table rows, numbers) on `page` of `pdf`."""
    reader, writer = PdfReader(pdf), PdfWriter()
    for p in range(max(1, page - 1), page + 1):
        writer.add_page(reader.pages[p - 1])
    path = work / f"{pdf.stem}-{page}.pdf"
    writer.write(path)
    doc = parse_pdf(path, workers=1, table_model=False)
    inside = total = 0
    for chunk in chunk_document(doc, "x", merge_below=15):
        if chunk.page != (2 if page > 1 else 1):
            continue
        for line in chunk.text.split("\n"):
            n = sum(len(m.strip("()$,.")) >= 3 for m in NUMBER.findall(line))
            total += n
            inside += n if " | " in line else 0
    return inside, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--pdfs", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="per-page counts as JSON")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    pages = sorted({(Path(q["doc"]).name, p) for q in questions for p in q.get("evidence_pages") or [q["page"]]})
    per_page: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, page in pages:
            per_page[f"{name}:{page}"] = page_counts(args.pdfs / name, page, Path(tmp))
    inside = sum(i for i, _ in per_page.values())
    total = sum(t for _, t in per_page.values())
    whole = sum(1 for i, t in per_page.values() if t and i == t)
    print(f"evidence pages: {len(pages)}; numbers in table rows: {inside} of {total} ({inside / max(total, 1):.3f})")
    print(f"pages with every number in a table row: {whole} of {sum(1 for _, t in per_page.values() if t)}")
    if args.out:
        args.out.write_text(json.dumps(per_page, indent=1))


if __name__ == "__main__":
    main()
