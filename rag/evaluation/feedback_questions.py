"""Feedback turned into a question set for `rag eval answers` and `rag finetune data --gold` (`rag feedback export`).

A thumbs-up answer is a gold answer: its text without markers, the document and pages it cites as the evidence; a
thumbs-up refusal is an unanswerable question. A thumbs-down answer is a question to check (`"check": true`, the
answer given in `rejected_answer`, no `answer`): `rag eval answers` asks it and shows it for review, and
`rag finetune data --gold` leaves it out until a person writes its answer (or `"answerable": false`) and removes the
flag.
"""

from rag.answering.markers import strip_marks
from rag.core.types import Feedback


def question_record(fb: Feedback) -> dict:
    """One JSONL record of the question set (`question`, then `answer`, `doc`, `evidence_pages`, `answerable` or
    `check`, and where it came from)."""
    record: dict = {"id": f"feedback-{fb.id}", "question": fb.question}
    answer = " ".join(strip_marks(fb.answer).split()).replace(" .", ".").replace(" ,", ",")
    if fb.rating == "up" and fb.refused:
        record.update(answer="", answerable=False)
    elif fb.rating == "up":
        record.update(answer=answer, answerable=True)
        if fb.citations:
            doc = fb.citations[0].doc
            record.update(doc=doc, evidence_pages=sorted({c.page for c in fb.citations if c.doc == doc}))
    else:
        record.update(check=True, rejected_answer=answer, rejected_refusal=fb.refused)
    record["feedback"] = fb.rating
    if fb.comment:
        record["comment"] = fb.comment
    if fb.asked:
        record["asked"] = fb.asked
    record["citations"] = [{"doc": c.doc, "page": c.page} for c in fb.citations]
    record.update(
        collection=fb.collection,
        model=(fb.model.version or fb.model.name) if fb.model else None,
        index_version=fb.index_version,
        created_at=fb.created_at,
    )
    return record


def question_set(feedback: list[Feedback]) -> tuple[list[dict], dict]:
    """The records of `feedback` (as the store lists it, the latest first) oldest first, and their counts: gold
    answers, confirmed refusals, questions to check."""
    records = [question_record(fb) for fb in reversed(feedback)]  # the store lists the latest first
    counts = {
        "gold": sum(r.get("answerable") is True for r in records),
        "unanswerable": sum(r.get("answerable") is False for r in records),
        "check": sum(bool(r.get("check")) for r in records),
    }
    return records, counts
