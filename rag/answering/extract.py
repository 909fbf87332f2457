"""Extractive answers: the sentences and table rows of the sources that best match the question, verbatim.

Nothing here generates text: every quote is an exact substring of the chunk it cites, so a user whose task
cannot tolerate invention gets only what the documents say (an optional summary is written separately,
from these quotes alone, and checked like any generated answer).
"""

import math
import re
from dataclasses import dataclass

from rag.answering.citations import SENTENCE
from rag.core.types import Hit
from rag.retrieval.lexical import tokens

ROW = " | "
RELATIVE = 0.5  # a quote scoring under half the best one is left out


@dataclass
class Quote:
    n: int  # the source's number (1-based rank among the hits)
    text: str  # verbatim from hits[n - 1].text
    score: float
    header: str = ""  # a table row's header row, also verbatim, for context


def units(text: str) -> list[tuple[str, str]]:
    """(unit, header) pairs: each table row with the table's first row, each sentence of prose (verbatim).

    A table row is matched with its header's words too ("Q2 in Bergen" finds the Bergen row under "Q2").
    """
    out: list[tuple[str, str]] = []
    header = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if ROW in line:
            if not header:
                header = line  # a table's first row: context for the rows below, not a quote of its own
            else:
                out.append((line, header))
            continue
        header = ""
        out.extend((piece.strip(), "") for piece in SENTENCE.split(line) if piece.strip())
    return out


def _score(unit: list[str], question: set[str], idf: dict[str, float]) -> float:
    """Question terms the unit contains, weighted by rarity, with a mild length normalisation."""
    found = question.intersection(unit)
    if not found:
        return 0.0
    return sum(idf[t] for t in found) / math.sqrt(max(len(unit), 4) / 4)


def extract(question: str, hits: list[Hit], max_quotes: int = 3, min_terms: int = 1) -> list[Quote]:
    """The best `max_quotes` verbatim units of the hits for the question (empty when nothing matches)."""
    q = set(tokens(question))
    if not q or not hits:
        return []
    candidates = [(n, unit, header, tokens(f"{header}\n{unit}")) for n, h in enumerate(hits, 1) for unit, header in units(h.text)]
    df: dict[str, int] = {}
    for *_, terms in candidates:
        for t in set(terms) & q:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log(1 + len(candidates) / (1 + df.get(t, 0))) for t in q}
    scored = []
    for n, unit, header, terms in candidates:
        if len(q.intersection(terms)) < min_terms or len(re.findall(r"\w", unit)) < 3:
            continue
        prior = 1 + 0.15 / n  # ties go to the better-ranked source
        scored.append(Quote(n=n, text=unit, header=header, score=round(_score(terms, q, idf) * prior, 4)))
    scored.sort(key=lambda x: -x.score)
    return [q for q in scored[:max_quotes] if q.score >= RELATIVE * scored[0].score]


def question_relevant_part(text: str, question: str, max_words: int) -> str:
    """The lines and sentences of `text` that best match the question, in their order, within `max_words`.

    Tighter packing for a slow model: prompt prefill dominates answer latency on a CPU, so each source can be
    cut to its most relevant part. A table keeps its header row above any row kept. Skipped stretches are
    marked with "...". `max_words <= 0`, or a text already short enough, returns the text unchanged.
    """
    if max_words <= 0 or len(text.split()) <= max_words:
        return text
    q = set(tokens(question))
    pieces: list[tuple[str, str]] = []  # (piece, header of its table or "")
    header = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if ROW in line:
            header = header or line
            pieces.append((line, header if line != header else ""))
        else:
            header = ""
            pieces.extend((p.strip(), "") for p in SENTENCE.split(line) if p.strip())
    overlap = [len(q.intersection(tokens(p))) for p, _ in pieces]
    ranked = sorted(range(len(pieces)), key=lambda i: (-overlap[i], i))
    keep: set[int] = set()
    words = 0
    for i in ranked:
        if keep and not overlap[i]:
            break  # nothing else mentions the question
        piece, head = pieces[i]
        extra = [i] + ([pieces.index((head, ""))] if head and (head, "") in pieces else [])
        cost = sum(len(pieces[j][0].split()) for j in extra if j not in keep)
        if words + cost > max_words and keep:
            continue
        keep.update(extra)
        words += cost
    out, last = [], -1
    for i in sorted(keep):
        if i != last + 1:
            out.append("...")
        out.append(pieces[i][0])
        last = i
    if last != len(pieces) - 1:
        out.append("...")
    return "\n".join(out)
