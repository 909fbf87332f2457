"""Question routing: which documents a question is about, from the names and periods it states, matched against
document profiles, with a lexical search over the profiles (title, names, outline, entities) for the rest.

A route is a hint, not a filter: the knowledge base fuses chunk retrieval within the routed documents with the
global search (or, when asked, keeps only the routed documents), so a question naming nothing still works.
"""

from collections import defaultdict
from dataclasses import dataclass

from rag.core.types import Document, DocumentProfile
from rag.profiles.names import mentions, names_ticker
from rag.profiles.periods import Period, question_periods
from rag.retrieval.lexical import Bm25Index

PROFILE_LEAD = 1.5  # a profile-word match routes only when its score is this far ahead of the next document's


@dataclass
class Route:
    doc_id: str
    score: float
    reason: str


def profile_text(p: DocumentProfile) -> str:
    """What the document-level index holds of a profile."""
    return "\n".join([p.title, *p.organizations, *p.aliases, p.kind, p.period, *p.entities, *p.outline])


def named(question: str, p: DocumentProfile) -> str | None:
    """The name of `p` that `question` states, or None."""
    for name in [*p.organizations, *p.aliases]:
        is_ticker = name.isupper() and name.isalpha() and len(name) <= 5
        if names_ticker(question, name) if is_ticker else mentions(question, name):
            return name
    return None


def period_fit(asked: list[Period], p: DocumentProfile) -> tuple[float, str]:
    """How well the document's period fits the periods a question names: 1 for the latest one named (a report
    covers its year and compares with earlier ones), 0.5 for another one named, 0.25 for the report a year after
    the latest (it restates that year as a comparison), else 0."""
    if not asked or p.year is None:
        return 0.0, ""
    latest = max(asked, key=lambda x: (x.year, x.quarter or 0))
    if p.year == latest.year and (not latest.quarter or not p.quarter or p.quarter == latest.quarter):
        return 1.0, f"period {p.period} = {latest.label}"
    if any(a.year == p.year for a in asked):
        return 0.5, f"period {p.period} named"
    if p.year == latest.year + 1:
        return 0.25, f"period {p.period} restates {latest.label}"
    return 0.0, ""


class Router:
    def __init__(self, documents: list[Document]):
        self.docs = [d for d in documents if d.status == "ok"]
        self.lexical = Bm25Index.build(list(range(len(self.docs))), [profile_text(d.profile) for d in self.docs])

    def route(self, question: str, max_docs: int = 3) -> list[Route]:
        """The documents the question is about, best first (at most `max_docs`); [] when it names none."""
        if not self.docs:
            return []
        asked = question_periods(question)
        by_name = [(d, name) for d in self.docs if (name := named(question, d.profile))]
        if by_name:
            return self._by_name(by_name, asked, max_docs)
        return self._by_profile_words(question, asked)

    def _by_name(self, hits: list[tuple[Document, str]], asked: list[Period], max_docs: int) -> list[Route]:
        scored = defaultdict(list)
        for doc, name in hits:
            fit, why = period_fit(asked, doc.profile)
            scored[fit].append(Route(doc.id, 1.0 + fit, f"names {name!r}" + (f"; {why}" if why else "")))
        best = scored[max(scored)]
        best.sort(key=lambda r: -(next(d.profile.year or 0 for d in self.docs if d.id == r.doc_id)))  # newest first
        return best[:max_docs]

    def _by_profile_words(self, question: str, asked: list[Period]) -> list[Route]:
        found = self.lexical.search(question, 2)
        if not found or (len(found) > 1 and found[0][1] < PROFILE_LEAD * found[1][1]):
            return []
        doc = self.docs[found[0][0]]
        fit, why = period_fit(asked, doc.profile)
        return [Route(doc.id, 0.5 + fit, "profile words match" + (f"; {why}" if why else ""))]
