"""Turning a generated answer's `[n]` markers into checked citations."""

import logging
import re
from dataclasses import dataclass, field
from functools import partial

from rag.answering.calculations import DESCRIBING, CalculationError, SentenceCalculations, SourceNumbers, calculations_in
from rag.answering.fragments import fragment, named_number
from rag.answering.grounding import Support, support
from rag.answering.markers import MARK, cited_numbers
from rag.core.types import Calculation, Citation, Hit

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


@dataclass
class Checked:
    """A generated answer after the check: the sentences kept, their citations, what was dropped, and the
    calculations of the kept sentences (computed by the service)."""

    text: str
    citations: list[Citation]
    dropped: list[str]
    calculations: list[Calculation] = field(default_factory=list)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s+([.,;:!?])", r"\1", text)).strip()


def check_answer(answer: str, hits: list[Hit], question: str = "", min_support: float = 0.5) -> Checked:
    """Keep only the sentences their cited sources back.

    Each sentence is checked against the sources it cites: every number in it must appear there (or in the
    question) and at least `min_support` of its content words. A sentence that cites nothing is checked
    against each source and cites the best one that backs it, else it is dropped. Markers pointing to no
    source are removed. Citations are numbered as the sources were, in order of first appearance.

    A calculation (`1,577 [2] / 32,765 [1] * 100 = 4.8%`, rag.answering.calculations) is checked operand by
    operand against the sources cited for each, computed here, and its result written in; a number elsewhere that
    is the result of a verified calculation of the answer is supported by it. A sentence whose calculation fails is
    dropped. A sentence that names no subject (a bare number, a heading: rag.answering.fragments) is dropped, but for
    a bare number its cited source states beside most of the question's words, which is written as the source states
    it; a calculation is not a fragment (its operands, each with its source, say what it computes).
    """
    pools = SourceNumbers(hits)
    planned: list[tuple[str, SentenceCalculations | None, str]] = []
    computed: list[float] = []
    for sentence in split_sentences(answer):
        try:
            calc = calculations_in(sentence, pools, question)
        except CalculationError as exc:
            planned.append((sentence, None, str(exc)))
            continue
        planned.append((sentence, calc, ""))
        if calc is not None:
            computed += calc.results
    kept: list[str] = []
    dropped: list[str] = []
    calculations: list[Calculation] = []
    cited: dict[int, list[tuple[str, float]]] = {}
    for sentence, calc, error in planned:
        claim = re.sub(r"\s+([.,;:!?])", r"\1", MARK.sub("", sentence)).strip()
        if not claim or not re.search(r"\w", claim):
            continue
        if error:
            log.info("calculation refused, sentence dropped: %r (%s)", claim, error)
            dropped.append(_clean(claim))
            continue
        if calc is not None:
            done = _check_calculation(calc, hits, question, min_support, computed)
            if done is None:
                dropped.append(_clean(claim))
                continue
            text, numbers, score = done
            kept.append(text)
            calculations += calc.calculations
            for n in numbers:
                cited.setdefault(n, []).append((_clean(MARK.sub("", text)), score))
            continue
        numbers = _valid(sentence, len(hits))
        result: Support | None
        if numbers:
            texts, docs = [hits[n - 1].text for n in numbers], [hits[n - 1].doc for n in numbers]
            result = support(claim, texts, question, docs, computed)
        else:
            scored = [(support(claim, [h.text], question, [h.doc], computed), n) for n, h in enumerate(hits, 1)]
            result, best = max(scored, key=lambda x: (x[0].ok(min_support), x[0].score), default=(None, 0))
            numbers = [best] if result else []
        if result is None or not result.ok(min_support):
            log.info("unsupported sentence dropped: %r (%s)", claim, result)
            dropped.append(claim)
            continue
        if reason := fragment(claim, question):
            named = named_number(claim, [hits[n - 1].text for n in numbers], question) if reason == "a bare number" else None
            if named is None:
                log.info("fragment dropped (%s): %r", reason, claim)
                dropped.append(claim)
                continue
            log.info("bare number %r written as its source states it: %r", claim, named)
            claim = named
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
    return Checked(" ".join(kept).strip(), citations, dropped, calculations)


def _check_calculation(
    calc: SentenceCalculations, hits: list[Hit], question: str, min_support: float, computed: list[float]
) -> tuple[str, list[int], float] | None:
    """A sentence with verified calculations: the rest of it must be backed by the sources it cites (and the
    operands' sources). Returns (its text, the sources cited, support), or None. A calculation alone is kept: its
    operands, each with its source, say what it computes."""
    rest_numbers = _valid(calc.rest, len(hits))
    numbers = list(dict.fromkeys([*calc.cited, *rest_numbers]))
    rest = _clean(MARK.sub("", calc.rest))
    score = 1.0
    if re.search(r"\w", rest):  # words or numbers besides the calculation
        texts, docs = [hits[n - 1].text for n in numbers], [hits[n - 1].doc for n in numbers]
        result = support(DESCRIBING.sub(" ", rest), texts, question, docs, computed)
        if not result.ok(min_support):
            log.info("unsupported sentence around a calculation dropped: %r (%s)", rest, result)
            return None
        score = result.score
    valid = set(range(1, len(hits) + 1))

    def keep(match: re.Match) -> str:
        found = [int(x) for x in re.findall(r"\d+", match.group(1))]
        return "".join(f"[{n}]" for n in dict.fromkeys(found) if n in valid)

    return _clean(MARK.sub(keep, calc.text)), numbers, score


def check_citations(
    answer: str, hits: list[Hit], question: str = "", min_support: float = 0.5
) -> tuple[str, list[Citation], list[str]]:
    """Keep only the sentences their cited sources back; returns (answer, citations, dropped sentences).
    The whole check, calculations included, is `check_answer`."""
    checked = check_answer(answer, hits, question, min_support)
    return checked.text, checked.citations, checked.dropped


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
