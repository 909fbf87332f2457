"""Evidence-page recall of questions over a data dir that already holds their documents (any collection), so
chunker and parse variants made with `rag ingest` / `rag index rebuild --rechunk` are scored without ingesting again
(`rag eval pages` ingests its PDFs into a collection of its own first).

    RAG_DATA_DIR=/work/fb-off .venv/bin/python bench/indexed_pages.py \\
        --questions ../shared/data/financebench-dev/questions.jsonl --out fb.json

Per mode (hybrid, dense, lexical): page recall @1/@5/@10 (a hit is the gold document and a gold page), document
recall @1, and "in-doc @5": page recall @5 of the same search limited to the gold document (ranking within it).
The per-question ranks of the hybrid search go to --out.
"""

import argparse
import json
from pathlib import Path

from rag.core.settings import Settings
from rag.core.types import Filters
from rag.service.services import Services


def ranked(services: Services, question: str, filters: Filters | None = None) -> list[tuple[str, int]]:
    hits, _ = services.kb.search(question, 30, filters=filters)
    out: list[tuple[str, int]] = []
    for h in hits:
        if (h.doc, h.page) not in out:
            out.append((h.doc, h.page))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, required=True, help="jsonl with question, doc, evidence_pages or page")
    parser.add_argument("--out", type=Path, help="write the summary and per-question ranks here")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    services = Services(Settings())
    report: dict = {"per_question": []}
    for mode in ("hybrid", "dense", "lexical"):
        services.settings.retrieval.mode = mode
        at: dict[int, list[bool]] = {1: [], 5: [], 10: []}
        doc_at_1, in_doc = [], []
        for q in questions:
            doc = Path(q["doc"]).name
            gold = {(doc, p) for p in (q.get("evidence_pages") or [q["page"]])}
            pages = ranked(services, q["question"])
            for k in at:
                at[k].append(bool(gold & set(pages[:k])))
            doc_at_1.append(bool(pages) and pages[0][0] == doc)
            within = ranked(services, q["question"], Filters(docs=[doc]))
            in_doc.append(bool(gold & set(within[:5])))
            if mode == "hybrid":
                rank = next((i + 1 for i, x in enumerate(within) if x in gold), None)
                report["per_question"].append({"question": q["question"], "doc": doc, "rank_in_doc": rank})
        n = max(len(questions), 1)
        report[mode] = {f"page@{k}": round(sum(v) / n, 3) for k, v in at.items()} | {
            "doc@1": round(sum(doc_at_1) / n, 3),
            "in_doc@5": round(sum(in_doc) / n, 3),
        }
        print(mode, report[mode], flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
