"""Scores our parser against documents whose truth is known: `rag eval parse DIR`.

DIR holds pairs `NAME.pdf|png|jpg|tif` + `NAME.truth.html`, or any other file read by `ingest/formats` (a DOCX,
an e-mail: `NAME.docx` + `NAME.docx.truth.html`, the full file name then `.truth.html`). Text is compared by
character error rate on the visible text in reading order (headers and footers excluded, so tagging them matters); tables by TEDS,
the i-th table of the truth against the i-th table we found (a missing table scores 0).
"""

import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.parse.html import to_html
from rag.evaluation.parse_scores import cer, html_text, tables_in, teds

DOC_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class FixtureScore:
    name: str
    cer: float
    teds: list[float] = field(default_factory=list)
    teds_structure: list[float] = field(default_factory=list)
    tables_truth: int = 0
    tables_found: int = 0
    seconds: float = 0.0
    scanned: bool = False
    error: str = ""


def pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(document, truth) pairs of a fixture folder, by name."""
    out = []
    for truth in sorted(Path(folder).glob("*.truth.html")):
        stem = truth.name[: -len(".truth.html")]
        docs = [truth.with_name(stem + s) for s in DOC_SUFFIXES if truth.with_name(stem + s).exists()]
        if not docs and truth.with_name(stem).is_file() and "." in stem:  # "policy.docx.truth.html"
            docs = [truth.with_name(stem)]
        if docs:
            out.append((docs[0], truth))
    return out


def score_html(name: str, truth: str, ours: str) -> FixtureScore:
    """CER of the reading-order text and TEDS (full and structure only) of each truth table.

    Tables pair up in order; a truth table we missed and a table we found that the truth lacks both score 0.
    """
    truth_tables, our_tables = tables_in(truth), tables_in(ours)
    extra = [0.0] * max(0, len(our_tables) - len(truth_tables))  # a table we invented scores 0 too
    full = [teds(t, our_tables[i]) if i < len(our_tables) else 0.0 for i, t in enumerate(truth_tables)] + extra
    shape = [
        teds(t, our_tables[i], structure_only=True) if i < len(our_tables) else 0.0 for i, t in enumerate(truth_tables)
    ] + extra
    return FixtureScore(
        name=name,
        cer=round(cer(html_text(truth), html_text(ours)), 4),
        teds=[round(x, 4) for x in full],
        teds_structure=[round(x, 4) for x in shape],
        tables_truth=len(truth_tables),
        tables_found=len(our_tables),
    )


def evaluate(folder: Path, parse) -> dict:
    """Parse every fixture with `parse(path) -> ParsedDocument` and score it; per-fixture rows and a summary."""
    rows: list[FixtureScore] = []
    for doc, truth in pairs(folder):
        t0 = time.perf_counter()
        try:
            parsed = parse(doc)
            row = score_html(doc.name, truth.read_text(encoding="utf-8"), to_html(parsed))
            row.scanned = any(p.source == "ocr" for p in parsed.pages)
        except Exception as exc:  # noqa: BLE001 - a fixture that fails is reported, not fatal
            row = FixtureScore(name=doc.name, cer=1.0, error=f"{type(exc).__name__}: {exc}")
        row.seconds = round(time.perf_counter() - t0, 3)
        rows.append(row)

    def mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 4) if values else None

    digital = [r for r in rows if not r.scanned]
    scans = [r for r in rows if r.scanned]
    summary = {
        "fixtures": len(rows),
        "cer_born_digital": mean([r.cer for r in digital]),
        "cer_scanned": mean([r.cer for r in scans]),
        "teds_born_digital": mean([t for r in digital for t in r.teds]),
        "teds_structure_born_digital": mean([t for r in digital for t in r.teds_structure]),
        "teds_scanned": mean([t for r in scans for t in r.teds]),
        "errors": sum(bool(r.error) for r in rows),
    }
    return {"summary": summary, "fixtures": [asdict(r) for r in rows]}
