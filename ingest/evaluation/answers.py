"""Answer evaluation through the real pipeline: `rag eval answers`.

Every document of a folder is ingested by the normal ingestion code (unchanged files already in the data
directory are skipped), every question goes through the normal answer path (`Services.ask`), and each answer
is scored by `rag/evaluation/answer_scores.py` (correctness, cited pages, refusal) and, optionally, an LLM judge.
"""

import time
from pathlib import Path

from ingest.pipeline import Ingestor
from rag.answering.citations import split_sentences
from rag.answering.prompts import is_refusal
from rag.core.errors import RagError
from rag.core.files import read_records
from rag.evaluation import answer_scores as m
from rag.evaluation.judge import Judge

GOLD_KEYS = ("answer", "gold_answer", "gold")


def load_questions(path: Path, limit: int | None = None) -> list[dict]:
    """Question records from a JSONL file: `question` required; `answer`, `doc`, `page`/`evidence_pages`,
    `answerable` (default true) and `id` optional."""
    records = read_records(path)
    return records[:limit] if limit is not None else records


def gold_answer(record: dict) -> str:
    """The reference answer of a record (first of `answer`, `gold_answer`, `gold`), as text."""
    for key in GOLD_KEYS:
        value = record.get(key)
        if value is not None and str(value).strip():
            return str(value) if not isinstance(value, list) else "; ".join(map(str, value))
    return ""


def _citations(answer, gold: set) -> list[dict]:
    return [
        {
            "n": c.n,
            "doc": c.doc,
            "page": c.page,
            "quote": c.quote,
            "support": c.support,
            "right": m.citation_scores([(c.doc, c.page)], gold)["precision"] == 1.0 if gold else None,
        }
        for c in answer.citations
    ]


def _auto_score(text: str, gold: str, answerable: bool, refused: bool, f1_threshold: float, contains: bool) -> dict:
    """The automatic score; on an unanswerable question refusing is correct, on an answerable one it is wrong."""
    if not answerable:
        return {"method": "refusal", "correct": refused, "f1": None}
    score = m.score_answer(text, gold, f1_threshold, contains)
    return dict(score, correct=False) if refused and score["correct"] is not None else score


def score_row(i: int, record: dict, answer, judge: Judge | None = None, f1_threshold: float = 0.5, contains: bool = True) -> dict:
    """One report row: the question, the answer, its citations and every score."""
    answerable = record.get("answerable", True) is not False
    gold = gold_answer(record)
    pages = m.gold_pages(record)
    refused = bool(answer.refused) or is_refusal(answer.answer)
    auto = _auto_score(answer.answer, gold, answerable, refused, f1_threshold, contains)
    verdict, raw = (None, "")
    if judge is not None and answerable and gold and not refused:
        verdict, raw = judge.verdict(record["question"], gold, answer.answer)
    cites = m.citation_scores([(c.doc, c.page) for c in answer.citations], pages)
    t = answer.timings_ms
    dense = [h.dense_score for h in answer.hits if h.dense_score is not None]
    return {
        "id": record.get("id", i),
        "question": record["question"],
        "gold_answer": gold,
        "answerable": answerable,
        "gold_pages": sorted([{"doc": d, "page": p} for d, p in pages], key=lambda x: (x["doc"] or "", x["page"])),
        "answer": answer.answer,
        "refused": refused,
        "mode": answer.mode,
        "method": auto["method"],
        "correct": auto["correct"],
        "f1": auto["f1"],
        "outcome": m.outcome(answerable, refused, auto["correct"]),
        "judge": verdict,
        "judge_reply": raw,
        "citation_precision": cites["precision"],
        "citation_recall": cites["recall"],
        "citations": _citations(answer, pages),
        "dropped": list(answer.dropped),
        "calculations": [c.model_dump() for c in answer.calculations],
        "kept_sentences": 0 if refused else len(split_sentences(answer.answer)),
        "timings_ms": {
            k: t[k]
            for k in (
                "retrieval_ms",
                "generation_ms",
                "first_token_ms",
                "total_ms",
                "prompt_tokens",
                "completion_tokens",
                "tokens_per_s",
            )
            if k in t
        },
        "top_dense": max(dense) if dense else None,
        "evidence_in_sources": bool(pages) and m.citation_scores([(h.doc, h.page) for h in answer.hits], pages)["recall"] > 0,
        "refused_by": _refused_by(answer, refused),
        "lookup": answer.lookup.model_dump() if getattr(answer, "lookup", None) else None,
        "unchecked": _unchecked(answer, gold, answerable, f1_threshold, contains),
        "error": None,
    }


def _refused_by(answer, refused: bool) -> str | None:
    """Who refused: "retrieval" (nothing generated: empty index, weak retrieval), "model" (its draft says the sources
    do not answer) or "check" (the draft answered and no sentence of it survived the citation check); None when the
    question was answered."""
    if not refused:
        return None
    if answer.draft is None:
        return "retrieval"
    return "model" if is_refusal(answer.draft) or not answer.draft.strip() else "check"


def false_refusals(rows: list[dict]) -> dict:
    """Refusals of answerable questions by who refused, and how many of them had a gold page among the sources."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["answerable"] and r["refused"] and r.get("refused_by"):
            by = out.setdefault(r["refused_by"], {"refused": 0, "evidence_in_sources": 0})
            by["refused"] += 1
            by["evidence_in_sources"] += bool(r.get("evidence_in_sources"))
    return out


def _unchecked(answer, gold: str, answerable: bool, f1_threshold: float, contains: bool) -> dict | None:
    """The same scores for the model's draft (its text before the citation check): what the check changed."""
    if answer.draft is None:
        return None
    refused = is_refusal(answer.draft) or not answer.draft.strip()
    auto = _auto_score(answer.draft, gold, answerable, refused, f1_threshold, contains)
    return {
        "answer": answer.draft,
        "refused": refused,
        "correct": auto["correct"],
        "outcome": m.outcome(answerable, refused, auto["correct"]),
    }


def error_row(i: int, record: dict, message: str) -> dict:
    """A row for a question the answer path rejected (counted, not scored)."""
    return {
        "id": record.get("id", i),
        "question": record.get("question", ""),
        "gold_answer": gold_answer(record),
        "answerable": record.get("answerable", True) is not False,
        "error": message,
    }


def _validity(rows: list[dict]) -> float | None:
    """Share of the model's answer sentences that passed the citation check (kept / kept + dropped)."""
    kept = sum(r.get("kept_sentences", 0) for r in rows)
    total = kept + sum(len(r["dropped"]) for r in rows)
    return round(kept / total, 4) if total else None


def summarize(rows: list[dict]) -> dict:
    """The headline numbers over every scored row (rows with an error are only counted)."""
    ok = [r for r in rows if not r.get("error")]
    answerable = [r for r in ok if r["answerable"]]
    scored = [r for r in answerable if r["correct"] is not None]
    answered = [r for r in ok if not r["refused"]]
    answered_scored = [r for r in scored if not r["refused"]]
    judged = [r for r in ok if r["judge"] is not None]
    summary = {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "answerable": len(answerable),
        "unanswerable": len(ok) - len(answerable),
        "numeric": sum(r["method"] == "number" for r in answerable),
        "accuracy": m.mean_of(float(r["correct"]) for r in scored),
        "accuracy_when_answered": m.mean_of(float(r["correct"]) for r in answered_scored),
        "mean_f1": m.mean_of(r["f1"] for r in answered_scored if r["method"] == "f1"),
        "citation_precision": m.mean_of(r["citation_precision"] for r in answered),
        "citation_recall": m.mean_of(r["citation_recall"] for r in answered if r["answerable"]),
        "answered_without_citation": sum(not r["citations"] for r in answered),
        "dropped_sentences": sum(len(r["dropped"]) for r in ok),
        "calculations": sum(len(r.get("calculations") or []) for r in ok),
        "calculations_replaced": sum(c["replaced"] for r in ok for c in r.get("calculations") or []),
        "citation_validity": _validity(ok),
        "judge_accuracy": m.mean_of(float(r["judge"]) for r in judged),
        "judge_agreement": m.mean_of(float(r["judge"] == r["correct"]) for r in judged if r["correct"] is not None),
        "false_refusals": false_refusals(ok),
        "evidence_in_sources": sum(bool(r.get("evidence_in_sources")) for r in answerable),
        "lookups": sum(bool(r.get("lookup")) for r in ok),
        "lookups_correct": sum(bool(r.get("lookup")) and bool(r["correct"]) for r in ok),
    }
    drafts = [dict(r, **r["unchecked"]) for r in ok if r.get("unchecked")]
    unchecked = (
        {
            "unchecked": {
                "questions": len(drafts),
                "accuracy": m.mean_of(float(bool(r["correct"])) for r in drafts if r["answerable"]),
            }
            | m.refusal_summary(drafts)
        }
        if drafts
        else {}
    )
    return summary | m.refusal_summary(ok) | {"latency_ms": m.latency_summary(r["timings_ms"] for r in ok)} | unchecked


def eval_answers(
    services,
    questions: Path,
    docs: Path,
    limit: int | None = None,
    judge: Judge | None = None,
    k: int | None = None,
    collection: str = "default",
    f1_threshold: float = 0.5,
    contains: bool = True,
    progress=None,
    on_answer=None,
    mode: str | None = None,
) -> dict:
    """Ingest `docs` into one index, ask every question of `questions`, score each answer; the JSON report.

    `progress(i, n, file_result)` follows ingestion, `on_answer(i, n, row)` each scored question.
    """
    records = load_questions(questions, limit)
    t0 = time.perf_counter()
    report = Ingestor(services).ingest_paths([docs], collection=collection, progress=progress).as_dict()
    ingest_s = time.perf_counter() - t0
    rows, model = [], None
    t0 = time.perf_counter()
    for i, record in enumerate(records, 1):
        try:
            answer = services.ask(record["question"], k, collection, mode=mode)
        except RagError as exc:
            rows.append(error_row(i, record, exc.message))
        else:
            model = model or (answer.model.model_dump() if answer.model else None)
            rows.append(score_row(i, record, answer, judge, f1_threshold, contains))
        if on_answer:
            on_answer(i, len(records), rows[-1])
    settings = services.settings
    return {
        "questions_file": str(questions),
        "docs": str(docs),
        "collection": collection,
        "files": report["counts"],
        "pages": report["pages"],
        "chunks": services.kb.store.count_chunks(),
        "ingest_seconds": round(ingest_s, 1),
        "answer_seconds": round(time.perf_counter() - t0, 1),
        "model": model,
        "judge": judge.describe() if judge else None,
        "settings": {
            "top_k": k or settings.top_k,
            "mode": mode or settings.answer.mode,
            "retrieval_mode": settings.retrieval.mode,
            "answer": settings.answer.model_dump(),
            "max_tokens": settings.generator.max_tokens,
            "n_ctx": settings.generator.n_ctx,
        },
        "scoring": {"number_tolerance": 0.01, "f1_threshold": f1_threshold, "contains": contains},
        "summary": summarize(rows),
        "rows": rows,
    }
