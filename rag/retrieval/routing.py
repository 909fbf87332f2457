"""Question routing: which documents a question is about, from the names and periods it states, matched against
document profiles, with a lexical search over the profiles (title, names, outline, entities) for the rest.

A route is a hint, not a filter: the knowledge base fuses chunk retrieval within the routed documents with the
global search (or, when asked, keeps only the routed documents), so a question naming nothing still works.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from rag.core.types import Document, DocumentProfile
from rag.profiles.names import mentions, name_terms, names_ticker, normalise
from rag.profiles.periods import Period, question_periods
from rag.retrieval.lexical import Bm25Index

PROFILE_LEAD = 1.5  # a profile-word match routes only when its score is this far ahead of the next document's
FULL_NAME = 0.1  # the score of stating a document's full name or alias, besides the rarity of that name
NAMED_SHARE = 0.5  # documents whose name score is at least this share of the best one are all named
GENERIC_TERMS = {  # words of document names that do not tell one document from another
    *"annual report handbook manual policy guide form final draft company group inc corporation corp".split(),
    *"employee user quarterly edition version filed".split(),
}
FUNCTION_WORDS = {"the", "and", "for", "of", "in", "on", "to", "by", "with", "from", "at", "a", "an", "s"}


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
        self.terms = [_distinctive_candidates(d) for d in self.docs]
        df = Counter(t for terms in self.terms for t in terms)
        n = len(self.docs)
        self.idf = {t: math.log(n / c) for t, c in df.items() if c < n}  # a term every document has names none
        names = Counter(n for d in self.docs for n in {normalise(x) for x in [*d.profile.organizations, *d.profile.aliases]})
        self.name_idf = {name: math.log(n / c) for name, c in names.items()}  # a name every document has tells nothing
        self.by_term: dict[str, set[int]] = {}  # any name term -> the documents that have it (candidates of a question)
        for i, d in enumerate(self.docs):
            for term in self.terms[i].union(*(name_terms(x) for x in [*d.profile.organizations, *d.profile.aliases])):
                self.by_term.setdefault(term, set()).add(i)

    def route(self, question: str, max_docs: int = 3, profile_words: bool = False) -> list[Route]:
        """The documents the question is about, best first (at most `max_docs`); [] when it names none.
        `profile_words`: when it names none, route to a document whose profile matches the question's words far
        better than any other's."""
        if not self.docs:
            return []
        asked = question_periods(question)
        terms = name_terms(question)
        candidates = set().union(*(self.by_term.get(t, set()) for t in terms))  # only documents sharing a name word
        scored = [(self._name_score(question, terms, i), i) for i in sorted(candidates)]
        best = max((s for (s, _), _ in scored), default=0.0)
        if best > 0:
            named = [(s, why, i) for (s, why), i in scored if s >= NAMED_SHARE * best]
            return self._by_name(named, asked, max_docs)
        return self._by_profile_words(question, asked) if profile_words else []

    def _name_score(self, question: str, asked: set[str], i: int) -> tuple[float, str]:
        """How strongly the question names document i: a full name or alias it states, and the rarer words of its
        names (file name, title, organisations: "Norway", "HX-300") it contains, weighted by their rarity."""
        doc = self.docs[i]
        full = named(question, doc.profile)
        found = sorted((t for t in self.terms[i] & asked if t in self.idf), key=lambda t: -self.idf[t])
        # a full name counts even when every document bears it (then the period decides), more when it is rare
        score = sum(self.idf[t] for t in found) + (FULL_NAME + self.name_idf.get(normalise(full), 0.0) if full else 0.0)
        names = ([repr(full)] if full else []) + [repr(t) for t in found[:3]]
        return score, ", ".join(names)

    def _by_name(self, named: list[tuple[float, str, int]], asked: list[Period], max_docs: int) -> list[Route]:
        routes = []
        for score, why, i in named:
            doc = self.docs[i]
            fit, period = period_fit(asked, doc.profile)
            reason = f"names {why}" + (f"; {period}" if period else "")
            routes.append((fit, score, doc.profile.year or 0, Route(doc.id, score + fit, reason)))
        top_fit = max(r[0] for r in routes)
        routes = [r for r in routes if r[0] == top_fit]  # the best period fit; without periods, all of them
        routes.sort(key=lambda r: (-r[1], -r[2]))  # most strongly named, then newest
        return [r[3] for r in routes[:max_docs]]

    def _by_profile_words(self, question: str, asked: list[Period]) -> list[Route]:
        found = self.lexical.search(question, 2)
        if not found or (len(found) > 1 and found[0][1] < PROFILE_LEAD * found[1][1]):
            return []
        doc = self.docs[found[0][0]]
        fit, why = period_fit(asked, doc.profile)
        return [Route(doc.id, 0.5 + fit, "profile words match" + (f"; {why}" if why else ""))]


def _distinctive_candidates(doc: Document) -> set[str]:
    """Name terms of a document that may tell it from its neighbours: from its file name, title, organisations
    and aliases; not years (periods are matched apart), not short, generic or function words."""
    p = doc.profile
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", doc.name)
    terms: set[str] = set()
    for text in [stem, p.title, *p.organizations[:1], *p.aliases]:
        words = normalise(text).split()
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if _usable(f"{a} {b}")]
        terms |= {w for w in words if _usable(w)} | set(pairs) | {x.replace(" ", "") for x in pairs}
    return terms


def _usable(term: str) -> bool:
    words = term.split()
    if any(re.fullmatch(r"(19|20)\d\d", w) or w in FUNCTION_WORDS for w in words):
        return False
    if all(w in GENERIC_TERMS for w in words):
        return False
    return len(term) >= 4 or (any(c.isdigit() for c in term) and any(c.isalpha() for c in term))
