"""Sections a question names: "shown in the cash flow statement", "according to the balance sheet", "the annual
leave section". Used to reorder the candidates a search already found, never to fetch chunks.

A chunk's heading breadcrumb is cut into segments ("Consolidated Balance Sheets > (In millions)" gives two). A
question names a segment when a run of at least `MIN_RUN` consecutive question words (stemmed, stop words out) all
occur in the segment and cover at least `MIN_COVER` of it, each word weighted by its rarity among the collection's
segments ("consolidated" counts less than "balance"). Words of the document's own label (its organisation, kind and
period: "3M Company and Subsidiaries ...") and calendar words ("Years ended December 31") are not section words, so a
heading naming the company or a column's dates is never "named" by a question that names the company or a year. A
segment in every heading of its document (a title over the whole document, a paper's title over its abstract's
pieces after the first, which holds the title itself) names the document, not a section in it: it is never named
either (which document a question is about is question routing's part).
"""

import math
import re
from collections import Counter
from collections.abc import Iterable

from rag.retrieval.lexical import tokens

SEGMENT_SEPARATOR = re.compile(r" > | / ")
CALENDAR = frozenset(
    tokens(
        "year years ended end ending month months quarter quarters fiscal period periods week weeks day days date "
        "dates january february march april may june july august september october november december"
    )
)
MIN_RUN = 2  # consecutive question words that must lie in the segment ("balance sheet", "cash flow")
MIN_COVER = 0.6  # share of the segment's words (by rarity) those words must make up


def segments(heading: str) -> list[str]:
    """The parts of a heading breadcrumb, in order, empty ones left out."""
    return [s.strip() for s in SEGMENT_SEPARATOR.split(heading) if s.strip()]


class SectionNames:
    """The headings of a collection's chunks, for finding which of them a question names."""

    def __init__(self, headings: Iterable[tuple[str, str]], labels: dict[str, str]):
        """`headings`: (document id, heading) pairs; `labels`: document id -> its label (profile context)."""
        self._label_terms = {doc: frozenset(tokens(label)) for doc, label in labels.items()}
        self._terms: dict[tuple[str, str], frozenset[str]] = {}
        by_doc: dict[str, list[set[str]]] = {}
        for doc, heading in set(headings):
            if heading:  # a chunk under no heading (the title's own chunk, a preamble) tells nothing
                by_doc.setdefault(doc, []).append(set(segments(heading)))
        self._whole = {(doc, s) for doc, heads in by_doc.items() for s in set.intersection(*heads)}
        for doc, heads in by_doc.items():
            for segment in set().union(*heads):
                self._segment_terms(doc, segment)
        df = Counter(t for terms in self._terms.values() for t in terms)
        n = max(len(self._terms), 1)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._unseen = math.log(1 + n)  # a word of a heading added after this was built

    def _segment_terms(self, doc: str, segment: str) -> frozenset[str]:
        key = (doc, segment)
        if key not in self._terms:
            skip = self._label_terms.get(doc, frozenset()) | CALENDAR
            terms = [] if key in self._whole else tokens(segment)
            self._terms[key] = frozenset(t for t in terms if not t[0].isdigit() and t not in skip)
        return self._terms[key]

    def matcher(self, question: str) -> "SectionMatcher":
        return SectionMatcher(self, [t for t in tokens(question) if not t[0].isdigit()])

    def weight(self, term: str) -> float:
        return self._idf.get(term, self._unseen)


class SectionMatcher:
    """The sections one question names, remembered per segment."""

    def __init__(self, names: SectionNames, words: list[str]):
        self.names = names
        self.words = words
        self._cover: dict[tuple[str, str], float] = {}

    def named(self, doc: str, heading: str) -> str | None:
        """The segment of `heading` (in document `doc`) the question names best, or None."""
        best, name = 0.0, None
        for segment in segments(heading):
            cover = self.cover(doc, segment)
            if cover >= MIN_COVER and cover > best:
                best, name = cover, segment
        return name

    def cover(self, doc: str, segment: str) -> float:
        """The share of the segment's words (by rarity) made up by the longest-weighing run of at least `MIN_RUN`
        consecutive question words that all occur in it; 0 when there is no such run."""
        key = (doc, segment)
        if key not in self._cover:
            terms = self.names._segment_terms(doc, segment)
            total = sum(self.names.weight(t) for t in terms)
            self._cover[key] = self._best_run(terms) / total if total else 0.0
        return self._cover[key]

    def _best_run(self, terms: frozenset[str]) -> float:
        best, run = 0.0, set()
        for word in [*self.words, None]:
            if word is not None and word in terms:
                run.add(word)
                continue
            if len(run) >= MIN_RUN:
                best = max(best, sum(self.names.weight(t) for t in run))
            run = set()
        return best
