"""Retrieval evaluation through the real pipeline: `rag eval retrieval` (BEIR) and `rag eval pages`.

Every corpus record or PDF is ingested as a document by the normal ingestion code, then each retrieval
mode (dense, lexical, hybrid) is scored on the same index.
"""

import csv
import json
import time
from pathlib import Path

from ingest.pipeline import Ingestor
from rag.evaluation.retrieval_scores import mean, mrr_at_k, ndcg_at_k, recall_at_k

MODES = ("dense", "lexical", "hybrid")


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def _ranked(services, question: str, k: int, key) -> list:
    """Distinct keys (documents or (document, page)) in order of their best chunk."""
    hits, _ = services.kb.search(question, k)
    out = []
    for h in hits:
        item = key(h)
        if item not in out:
            out.append(item)
    return out


def _per_mode(services, modes, run) -> dict:
    results = {}
    original = services.settings.retrieval.mode
    try:
        for mode in modes:
            services.settings.retrieval.mode = mode
            t0 = time.perf_counter()
            results[mode] = run()
            results[mode]["ms_per_query"] = round((time.perf_counter() - t0) * 1000 / max(results[mode].pop("n"), 1), 2)
    finally:
        services.settings.retrieval.mode = original
    return results


def eval_beir(services, corpus: Path, queries: Path, qrels: Path, modes=MODES, limit: int | None = None, progress=None) -> dict:
    """nDCG@10, Recall@10/100 and MRR@10 per mode; each corpus record is one ingested document."""
    ingestor = Ingestor(services)
    records = _jsonl(corpus)
    t0 = time.perf_counter()
    with services.kb.bulk():
        for i, rec in enumerate(records, 1):
            text = "\n".join(t for t in (rec.get("title", ""), rec.get("text", "")) if t)
            ingestor.ingest_text(rec["_id"], text, collection="beir")
            if progress and i % 250 == 0:
                progress(f"ingested {i}/{len(records)} records")
    ingest_s = time.perf_counter() - t0
    judged = load_qrels(qrels)
    qs = [q for q in _jsonl(queries) if q["_id"] in judged][:limit]

    def run() -> dict:
        scores: dict[str, list[float]] = {"ndcg@10": [], "recall@10": [], "recall@100": [], "mrr@10": []}
        for q in qs:
            ranked = _ranked(services, q["text"], 200, lambda h: h.doc)
            rel = judged[q["_id"]]
            scores["ndcg@10"].append(ndcg_at_k(ranked, rel, 10))
            scores["recall@10"].append(recall_at_k(ranked, rel, 10))
            scores["recall@100"].append(recall_at_k(ranked, rel, 100))
            scores["mrr@10"].append(mrr_at_k(ranked, rel, 10))
        return {name: mean(v) for name, v in scores.items()} | {"n": len(qs)}

    return {
        "corpus": str(corpus),
        "documents": len(records),
        "queries": len(qs),
        "ingest_seconds": round(ingest_s, 1),
        "modes": _per_mode(services, modes, run),
    }


def eval_pages(services, questions: Path, docs: Path, modes=MODES, limit: int | None = None, progress=None) -> dict:
    """Evidence-page recall@1/5/10 over one index holding every PDF of `docs`."""
    ingestor = Ingestor(services)
    t0 = time.perf_counter()
    report = ingestor.ingest_paths([docs], collection="pages", progress=progress)
    ingest_s = time.perf_counter() - t0
    qs = _jsonl(questions)[:limit]

    def run() -> dict:
        hits_at: dict[int, list[float]] = {1: [], 5: [], 10: []}
        docs_at: dict[int, list[float]] = {1: [], 5: []}
        for q in qs:
            gold = {(Path(q["doc"]).name, p) for p in (q.get("evidence_pages") or [q["page"]])}
            ranked = _ranked(services, q["question"], 30, lambda h: (h.doc, h.page))
            for k in hits_at:
                hits_at[k].append(1.0 if gold & set(ranked[:k]) else 0.0)
            for k in docs_at:  # the right document among the first k pages' documents
                docs_at[k].append(1.0 if Path(q["doc"]).name in {d for d, _ in ranked[:k]} else 0.0)
        return (
            {f"page_recall@{k}": mean(v) for k, v in hits_at.items()}
            | {f"doc_recall@{k}": mean(v) for k, v in docs_at.items()}
            | {"n": len(qs)}
        )

    return {
        "docs": str(docs),
        "files": report.as_dict()["counts"],
        "pages": report.as_dict()["pages"],
        "chunks": services.kb.store.count_chunks(),
        "questions": len(qs),
        "ingest_seconds": round(ingest_s, 1),
        "modes": _per_mode(services, modes, run),
    }
