"""Answer-quality scorers: numbers within a tolerance, token F1, cited pages, refusals, latency percentiles.

Pure functions over plain values (strings, (doc, page) pairs, dicts), so they are cheap to test and the
evaluation driver (`ingest/evaluation/answers.py`) only has to collect what the answer path returned.

Numbers: "$1,577.00", "1577", "(370)" (= -370), "-370", "12.5%", "1.5 billion" and "1500 million" are all read;
each number also stands for its scaled value ("1.5 billion" is both 1.5 and 1.5e9), so a gold answer in
millions matches an answer written in billions. Token F1 follows SQuAD: lowercase, strip punctuation and the
articles a/an/the.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from rag.answering.markers import strip_marks

_SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "mm": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<open>\()?\s*(?P<sign>[-\u2212\u2013])?\s*(?P<cur>[$\u20ac\u00a3\u00a5])?\s*(?P<sign2>[-\u2212])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
    r"(?:\s*(?P<pct>%|percent\b|per\s+cent\b))?"
    r"(?:(?:\s*(?P<word>thousand|million|billion|trillion|bn|mn|mm|tn)\b)|(?P<letter>[kKmMbB])\b)?"
    r"(?P<close>\s*\))?",
    re.IGNORECASE,
)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: "" for c in string.punctuation + "\u2019\u2018\u201c\u201d"} | {"\u2013": " ", "\u2014": " "})


@dataclass(frozen=True)
class Number:
    """A number read from text: its written value, the values it may stand for, and whether it looks like a year."""

    value: float
    candidates: tuple[float, ...]
    year_like: bool


def strip_citations(text: str) -> str:
    """The text without `[n]` / `[1, 2]` citation markers (they are not part of the answer's content)."""
    return strip_marks(text)


def parse_numbers(text: str) -> list[Number]:
    """Every number in `text`, in order; "(370)" and "-370" are negative, "%" and scale words are honoured."""
    out = []
    for m in _NUMBER.finditer(strip_citations(text)):
        value = float(m["num"].replace(",", ""))
        negative = bool(m["sign"] or m["sign2"] or (m["open"] and m["close"]))
        value = -value if negative else value
        candidates = [value]
        word = (m["word"] or m["letter"] or "").lower()
        if word:
            candidates.append(value * _SCALES[word])
        if m["pct"]:
            candidates.append(value / 100)
        plain = m["num"].isdigit() and not (m["cur"] or m["pct"] or word or negative)
        out.append(Number(value, tuple(candidates), plain and 1900 <= value <= 2100))
    return out


def close(a: float, b: float, tolerance: float = 0.01) -> bool:
    """True when `a` is within `tolerance` (relative) of `b`; only 0 is close to 0."""
    return abs(a - b) <= tolerance * abs(b) if b else a == 0


def numbers_match(answer: str, gold: str, tolerance: float = 0.01) -> bool | None:
    """Does a number of the answer lie within `tolerance` of a number of the gold answer?

    None when the gold answer has no number (score it another way). Years (plain integers 1900-2100) in the gold
    answer are ignored when it has other numbers, so "In 2023 it was 1,577" is not matched by a bare "2023".
    """
    gold_numbers = parse_numbers(gold)
    if not gold_numbers:
        return None
    keys = [n for n in gold_numbers if not n.year_like] or gold_numbers
    wanted = [c for n in keys for c in n.candidates]
    found = [c for n in parse_numbers(answer) for c in n.candidates]
    return any(close(a, g, tolerance) for a in found for g in wanted)


def normalize_tokens(text: str) -> list[str]:
    """SQuAD normalisation: no citation markers, lowercase, punctuation deleted ("1,577" is "1577"), articles
    removed, split on whitespace."""
    text = strip_citations(text).lower().translate(_PUNCT)
    return _ARTICLES.sub(" ", text).split()


def token_f1(answer: str, gold: str) -> tuple[float, float, float]:
    """(F1, precision, recall) of the normalised tokens; two empty texts score 1.0, one empty text 0.0."""
    a, g = normalize_tokens(answer), normalize_tokens(gold)
    if not a or not g:
        same = float(not a and not g)
        return same, same, same
    common = sum((Counter(a) & Counter(g)).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / len(a), common / len(g)
    return 2 * precision * recall / (precision + recall), precision, recall


def score_answer(
    answer: str, gold: str | None, f1_threshold: float = 0.5, contains: bool = True, tolerance: float = 0.01
) -> dict:
    """Auto-score one answer against its gold answer.

    A gold answer with numbers is scored by `numbers_match` (method "number"); otherwise by token F1 (method
    "f1"): correct when F1 >= `f1_threshold` or, with `contains`, when the answer holds every gold token (a short
    gold answer inside a full-sentence answer). Without a gold answer: method "none", correct None.
    """
    if gold is None or not gold.strip():
        return {"method": "none", "correct": None, "f1": None}
    f1, _, recall = token_f1(answer, gold)
    matched = numbers_match(answer, gold, tolerance)
    if matched is not None:
        return {"method": "number", "correct": matched, "f1": round(f1, 4)}
    correct = f1 >= f1_threshold or (contains and recall == 1.0)
    return {"method": "f1", "correct": correct, "f1": round(f1, 4)}


def doc_key(name: str | None) -> str | None:
    """Documents are matched by file name: "pdfs/a.pdf" and "a.pdf" are the same document."""
    return PurePath(str(name).replace("\\", "/")).name if name else None


def gold_pages(record: dict) -> set[tuple[str | None, int]]:
    """The (document, page) pairs holding a record's evidence: `evidence_pages` or `page`, in `doc`."""
    pages = record.get("evidence_pages") or ([record["page"]] if record.get("page") is not None else [])
    doc = doc_key(record.get("doc"))
    return {(doc, int(p)) for p in pages}


def citation_scores(cited: Iterable[tuple[str, int]], gold: set[tuple[str | None, int]]) -> dict:
    """Page precision and recall of an answer's citations against the gold (doc, page) pairs.

    Distinct cited pages count once. A citation is right when it names a gold page of the same document (by
    file name); a gold pair with document None matches that page in any document. Precision is None without
    citations, recall None without gold pages.
    """
    pages = {(doc_key(d), int(p)) for d, p in cited}

    def hit(c: tuple[str | None, int], g: tuple[str | None, int]) -> bool:
        return c[1] == g[1] and (g[0] is None or c[0] == g[0])

    right = [c for c in pages if any(hit(c, g) for g in gold)]
    found = [g for g in gold if any(hit(c, g) for c in pages)]
    return {"precision": len(right) / len(pages) if pages else None, "recall": len(found) / len(gold) if gold else None}


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default); None if empty."""
    data = sorted(float(v) for v in values)
    return _interpolated(data, q) if data else None


def _interpolated(data: list[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted, non-empty `data`, interpolated linearly between ranks."""
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def mean_of(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None, rounded to 4 places; None when there are none."""
    kept = [float(v) for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def outcome(answerable: bool, refused: bool, correct: bool | None) -> str:
    """One answer in the three-way trade-off: "answered_correct", "answered_wrong" or "refused".

    An answer to an unanswerable question is wrong whatever it says; an unscored answer (no gold) is wrong.
    """
    if refused:
        return "refused"
    return "answered_correct" if answerable and correct else "answered_wrong"


def refusal_summary(rows: Iterable[dict]) -> dict:
    """Refusal rate, refusal accuracy on unanswerable questions, false refusals, and the outcome counts.

    Each row needs `answerable`, `refused` and `correct` (the auto-score; ignored for unanswerable questions).
    """
    counts = {kind: {"answered_correct": 0, "answered_wrong": 0, "refused": 0} for kind in ("answerable", "unanswerable")}
    for r in rows:
        kind = "answerable" if r["answerable"] else "unanswerable"
        counts[kind][outcome(r["answerable"], r["refused"], r.get("correct"))] += 1
    n_ans, n_un = (sum(counts[k].values()) for k in ("answerable", "unanswerable"))
    refused = counts["answerable"]["refused"] + counts["unanswerable"]["refused"]
    return {
        "refusal_rate": round(refused / (n_ans + n_un), 4) if n_ans + n_un else None,
        "refusal_accuracy": round(counts["unanswerable"]["refused"] / n_un, 4) if n_un else None,
        "false_refusal_rate": round(counts["answerable"]["refused"] / n_ans, 4) if n_ans else None,
        "outcomes": counts,
    }


def latency_summary(timings: Iterable[dict]) -> dict:
    """p50/p95/mean (ms) of `total_ms` and, where answers report it, `first_token_ms`."""
    timings = list(timings)
    out = {}
    for key in ("total_ms", "first_token_ms", "retrieval_ms", "generation_ms"):
        values = [t[key] for t in timings if t.get(key) is not None]
        if values:
            ranked = sorted(float(v) for v in values)
            out[key] = {
                "p50": round(_interpolated(ranked, 50), 1),
                "p95": round(_interpolated(ranked, 95), 1),
                "mean": round(sum(values) / len(values), 1),
                "n": len(values),
            }
    return out
