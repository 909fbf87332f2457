"""Does a cited source back a sentence? Numbers must appear in it; most content words must too.

The check is lexical and deliberately strict: a sentence whose number is not in the source it cites
is unsupported, whatever the model meant; so is one naming someone or something (a capitalised word,
the question's included: a question about "Siemens" answered from a source about 3M fails) that the
source does not name. Other words of the question count as neither supported nor unsupported: only
what the sentence adds to the question is scored, so "The capital of France is Paris" scores 0
against a source without "Paris", however many question words it repeats.
"""

import re
from dataclasses import dataclass, field

from rag.answering.markers import MARK
from rag.retrieval.lexical import tokens

NUMBER = re.compile(r"(?<![\w.])[-+]?\(?\$?\d[\d,\u202f\u00a0]*(?:\.\d+)?")
SCALES = (1.0, 1e3, 1e6, 1e9, 1e-3, 1e-6, 1e-9, 100.0, 0.01)  # units and percent written differently


def written(text: str) -> list[tuple[float, int]]:
    """Every number written in `text` with its count of decimals ("$1,577.00" -> (1577.0, 2), "(370)" -> (370.0, 0))."""
    out = []
    for raw in NUMBER.findall(MARK.sub(" ", text)):
        digits = re.sub(r"[^\d.]", "", raw).rstrip(".")
        try:
            out.append((float(digits), len(digits.split(".")[1]) if "." in digits else 0))
        except ValueError:
            continue
    return out


def numbers(text: str) -> list[float]:
    """Every number written in `text` as a float ("$1,577.00" -> 1577.0, "(370)" -> 370.0, "4.5%" -> 4.5)."""
    return [value for value, _ in written(text)]


def number_found(value: float, pool: list[float], decimals: int | None = None) -> bool:
    """True when `value`, as precise as it is written, is a number of `pool`, possibly in another unit.

    "1.58" matches 1,577 (millions written as billions, rounded to what is written); 2018 never matches 2019.
    """
    if decimals is None:
        text = repr(value)
        decimals = 0 if value == int(value) else len(text.split(".")[1])
    slack = 0.5 * 10**-decimals
    for have in pool:
        for scale in SCALES:
            target = have * scale
            if abs(target - value) <= slack + 1e-9 * abs(target):
                return True
    return False


def name_phrases(text: str) -> list[list[str]]:
    """The names of `text` as phrases: runs of capitalised words inside sentences ("Calder Pharma" -> ["calder",
    "pharma"]), not acronyms and not the first word of a sentence."""
    padded = " " + text.strip()
    runs: list[list[str]] = []
    last_end = -1
    for m in re.finditer(r"(?<=[\s(\"'])([A-Z][a-z][\w&'-]+)", padded):
        before = padded[: m.start()].rstrip(" (\"'")
        if not before or before[-1] in ".!?:;\n":
            last_end = -1
            continue
        if runs and last_end >= 0 and not padded[last_end : m.start()].strip():
            runs[-1].append(m.group(1))
        else:
            runs.append([m.group(1)])
        last_end = m.end()
    phrases = [list(dict.fromkeys(t for t in tokens(" ".join(run)) if len(t) >= 3)) for run in runs]
    return [p for p in phrases if p]


def named(phrase: list[str], present) -> bool:
    """Does a source name `phrase`? Its first word (what sets a name apart: "Zorvath" in "Zorvath Pharma") must be
    there, and at least half of its words ("Marlow Software Employee Handbook" is named by a page of
    "marlow-software-handbook.pdf" that never writes "employee")."""
    found = [present(t) for t in phrase]
    return found[0] and 2 * sum(found) >= len(found)


def names(text: str) -> set[str]:
    """Terms of the capitalised words inside sentences (likely names: "Siemens", "Oslo"), not acronyms and not
    the first word of a sentence."""
    return set().union(*name_phrases(text))


@dataclass
class Support:
    """How well the cited sources back one sentence."""

    score: float  # share of the sentence's content terms not in the question that the sources contain
    missing_numbers: list[float] = field(default_factory=list)
    missing_terms: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)

    def ok(self, min_score: float) -> bool:
        """Backed: every number and every name is in the sources, and enough of the other words."""
        return not self.missing_numbers and not self.missing_names and self.score >= min_score


def support(
    sentence: str, sources: list[str], question: str = "", titles: list[str] | tuple = (), computed: list[float] | tuple = ()
) -> Support:
    """Score `sentence` (its `[n]` markers ignored) against the text of the sources it cites.

    `computed`: the results of the answer's verified calculations (rag.answering.calculations); a number of the
    sentence that is one of them is supported by its calculation, as precisely as the sentence writes it. Nothing
    else lets a number through that its sources do not write.

    `titles` (document names) may hold a name glued to others ("AMERICANEXPRESS_2022_10K.pdf" names American
    Express). When the question names someone or something, at least one of those names must be in the sources
    (`named`: "Calder Pharma" is not named by "Pharma" alone).
    """
    claim = MARK.sub(" ", sentence)
    pool_text = "\n".join([*titles, *sources])
    pool_numbers = numbers("\n".join(sources))
    results = [abs(c) for c in computed]  # written() reads numbers without their sign
    missing_numbers = [v for v, d in written(claim) if not number_found(v, pool_numbers, d) and not number_found(v, results, d)]
    known = set(tokens(pool_text))
    squashed = re.sub(r"[^a-z0-9]", "", " ".join(titles).lower())

    def present(term: str) -> bool:
        return term in known or (len(term) >= 4 and term in squashed)

    asked_phrases = name_phrases(question)
    asked_names = set().union(*asked_phrases)
    claim_terms = set(tokens(claim))
    missing_names = sorted(t for t in names(claim) | (asked_names & claim_terms) if not present(t))
    if asked_phrases and not any(named(phrase, present) for phrase in asked_phrases):
        # the sources are about someone else: no name of the question is in them ("Zorvath Pharma" is not backed
        # by a source about "Calder Pharma")
        missing_names = sorted(set(missing_names) | {t for t in asked_names if not present(t)})
    asked = set(tokens(question)) - asked_names
    terms = [t for t in tokens(claim) if not t[0].isdigit() and t not in asked and t not in names(claim)]
    if not terms:  # it only restates the question (and names)
        return Support(score=1.0, missing_numbers=missing_numbers, missing_names=missing_names)
    missing = [t for t in terms if t not in known]
    return Support(
        score=round(1 - len(missing) / len(terms), 3),
        missing_numbers=missing_numbers,
        missing_terms=missing,
        missing_names=missing_names,
    )
