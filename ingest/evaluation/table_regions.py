"""`rag eval parse DIR` on a folder of real PDFs with human table regions (`DIR/tables.jsonl`, ICDAR 2013 format).

Each line of `tables.jsonl` is one gold table region: `id`, `doc` (a path under DIR), `page` (1-based), `html`
(the gold grid), and `gt_variant` where the organisers gave alternative interpretations of a document (the
better-scoring one counts). Every PDF is parsed once; every table we find on any of its pages counts as a
prediction, so a table invented on a page without gold lowers precision. Scoring: `rag.evaluation.table_regions`.
"""

import json
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from ingest.parse.html import table_html
from rag.evaluation.table_regions import GoldTable, RegionScore, has_span, score_document, summarise

GOLD_FILE = "tables.jsonl"


def is_region_set(folder: Path) -> bool:
    return (Path(folder) / GOLD_FILE).is_file()


def load_gold(folder: Path) -> dict[str, dict[str | None, list[GoldTable]]]:
    """Gold tables by document path, then by variant (None: shared by every variant)."""
    out: dict[str, dict[str | None, list[GoldTable]]] = defaultdict(lambda: defaultdict(list))
    for line in (Path(folder) / GOLD_FILE).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        table = GoldTable(id=row["id"], page=int(row["page"]), html=row["html"], spanning=has_span(row["html"]))
        out[row["doc"]][row.get("gt_variant")].append(table)
    return out


def predicted_tables(parsed) -> dict[int, list[str]]:
    """Our tables of a parsed document as HTML, by page number."""
    out: dict[int, list[str]] = defaultdict(list)
    for page in parsed.pages:
        for block in page.blocks:
            if block.kind == "table":
                out[page.number].append(table_html(block))
    return out


def best_variant(doc: str, variants: dict[str | None, list[GoldTable]], predicted: dict[int, list[str]]) -> RegionScore:
    shared = variants.get(None, [])
    names: list[str | None] = [v for v in variants if v is not None] or [None]
    scores = [score_document(doc, shared + (variants[v] if v is not None else []), predicted) for v in names]
    return max(scores, key=lambda s: (s.total_teds, s.matched))


def evaluate_regions(folder: Path, parse) -> dict:
    """Parse every document of the set with `parse(path) -> ParsedDocument` and score its tables."""
    folder = Path(folder)
    rows: list[dict] = []
    scores: list[RegionScore] = []
    for doc, variants in sorted(load_gold(folder).items()):
        t0 = time.perf_counter()
        error = ""
        try:
            predicted = predicted_tables(parse(folder / doc))
        except Exception as exc:  # noqa: BLE001 - a document that fails is reported and scores 0
            predicted, error = {}, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        score = best_variant(doc, variants, predicted)
        scores.append(score)
        rows.append(
            {
                "name": doc,
                "gold": len(score.gold),
                "predicted": score.predicted,
                "matched": score.matched,
                "teds": round(score.total_teds / len(score.gold), 4) if score.gold else None,
                "tables": [asdict(g) for g in score.gold],
                "seconds": round(seconds, 3),
                "error": error,
            }
        )
    summary = summarise(scores)
    summary["documents"] = len(rows)
    summary["errors"] = sum(bool(r["error"]) for r in rows)
    return {"summary": summary, "documents": rows}
