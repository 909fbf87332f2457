"""Turning a generated answer's `[n]` markers into checked citations."""

import logging
import re
from functools import partial

from rag.answering.grounding import Support, support
from rag.answering.markers import MARK, cited_numbers
from rag.core.types import Citation, Hit

log = logging.getLogger(__name__)

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")  # a trailing "[n]" stays with its sentence
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,%$-]*")


def split_sentences(text: str) -> list[str]:
    """Sentences and lines; a fragment like "2." (a list or heading number) joins the next piece."""
    pieces = [p.strip() for line in text.strip().splitlines() for p in SENTENCE.split(line) if p.strip()]
    out: list[str] = []
    carry = ""
    for piece in pieces:
        if len(piece) <= 4 and not MARK.fullmatch(piece):
            carry = f"{carry} {piece}".strip()
            continue
        out.append(f"{carry} {piece}".strip())
        carry = ""
    if carry:
        out.append(carry)
    return out


def _words(text: str) -> set[str]:
    return {w.lower().strip(".,") for w in WORD.findall(text)}


def best_quote(chunk_text: str, claim: str) -> str:
    """The sentence of the chunk sharing the most words with the claim that cites it."""
    sentences = split_sentences(chunk_text) or [chunk_text]
    claim_words = _words(MARK.sub("", claim))
    best = max(sentences, key=lambda s: (len(_words(s) & claim_words), len(s.split()) >= 4, -len(s)))
    return best[:400]


def _valid(sentence: str, n_hits: int) -> list[int]:
    found = cited_numbers(sentence)
    for n in found:
        if not 1 <= n <= n_hits:
            log.warning("answer cites [%d] but only %d sources were given; removed", n, n_hits)
    return list(dict.fromkeys(n for n in found if 1 <= n <= n_hits))


def check_citations(
    answer: str, hits: list[Hit], question: str = "", min_support: float = 0.5
) -> tuple[str, list[Citation], list[str]]:
    """Keep only the sentences their cited sources back; returns (answer, citations, dropped sentences).

    Each sentence is checked against the sources it cites: every number in it must appear there (or in the
    question) and at least `min_support` of its content words. A sentence that cites nothing is checked
    against each source and cites the best one that backs it, else it is dropped. Markers pointing to no
    source are removed. Citations are numbered as the sources were, in order of first appearance.
    """
    kept: list[str] = []
    dropped: list[str] = []
    cited: dict[int, list[tuple[str, float]]] = {}
    for sentence in split_sentences(answer):
        claim = re.sub(r"\s+([.,;:!?])", r"\1", MARK.sub("", sentence)).strip()
        if not claim or not re.search(r"\w", claim):
            continue
        numbers = _valid(sentence, len(hits))
        result: Support | None
        if numbers:
            result = support(claim, [hits[n - 1].text for n in numbers], question, [hits[n - 1].doc for n in numbers])
        else:
            scored = [(support(claim, [h.text], question, [h.doc]), n) for n, h in enumerate(hits, 1)]
            result, best = max(scored, key=lambda x: (x[0].ok(min_support), x[0].score), default=(None, 0))
            numbers = [best] if result else []
        if result is None or not result.ok(min_support):
            log.info("unsupported sentence dropped: %r (%s)", claim, result)
            dropped.append(claim)
            continue
        for n in numbers:
            cited.setdefault(n, []).append((claim, result.score))
        end = re.search(r"[.!?]$", claim)
        marks = "".join(f"[{n}]" for n in numbers)
        kept.append(f"{claim[:-1]} {marks}{end.group()}" if end else f"{claim} {marks}")
    citations = [
        Citation(
            n=n,
            doc=hits[n - 1].doc,
            page=hits[n - 1].page,
            chunk_id=hits[n - 1].chunk_id,
            bbox=hits[n - 1].bbox,
            quote=best_quote(hits[n - 1].text, " ".join(c for c, _ in claims)),
            support=min(score for _, score in claims),
        )
        for n, claims in cited.items()
    ]
    return " ".join(kept).strip(), citations, dropped


def resolve_citations(answer: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
    """Keep `[n]` markers that point to a source, drop (and log) the rest; one Citation per source cited.

    Returns the cleaned answer text and its citations, in order of first appearance.
    """
    cited: dict[int, list[str]] = {}

    def keep(match: re.Match, sentence: str) -> str:
        numbers = [int(x) for x in re.findall(r"\d+", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= len(hits)]
        for n in numbers:
            if n not in valid:
                log.warning("answer cites [%d] but only %d sources were given; removed", n, len(hits))
        for n in valid:
            cited.setdefault(n, []).append(sentence)
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))

    out = []
    for sentence in split_sentences(answer):
        out.append(MARK.sub(partial(keep, sentence=sentence), sentence))
    text = re.sub(r"\s+([.,;:])", r"\1", " ".join(out)).strip()
    citations = [
        Citation(
            n=n,
            doc=hits[n - 1].doc,
            page=hits[n - 1].page,
            chunk_id=hits[n - 1].chunk_id,
            bbox=hits[n - 1].bbox,
            quote=best_quote(hits[n - 1].text, " ".join(claims)),
        )
        for n, claims in cited.items()
    ]
    return text, citations
