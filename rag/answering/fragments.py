"""Fragments: a sentence that names no subject is no answer, however well its source backs it.

"609 [2]" (a bare number) and "Total Restructuring Costs [1]" (a heading, answering "What were the total
restructuring costs?" with the question's own words) passed the grounding check: the number is in the source, the
heading restates the question. Neither says what is what, and both were wrong answers. They are dropped like
unsupported sentences (the model is then asked once more, and the answer is a refusal if nothing better comes).

One rewrite needs no model: a bare number whose cited source states it in a sentence holding most of the question's
words ("55 EUR [1]" to "What is the daily meal allowance?", the source saying "The daily meal allowance on business
trips is 55 EUR.") becomes that sentence, and one in a table row whose label the question names ("5,409 [2]" to
"What is the FY2019 total amount of inventories?", the row "Merchandise inventories | 5,409 | 5,174") becomes
"<label>: <number>": the source then says what the number is, in its own words. A number the source states
elsewhere stays a fragment.
"""

import re

from rag.answering.grounding import number_found, numbers
from rag.answering.markers import strip_marks
from rag.profiles.periods import YEAR
from rag.retrieval.lexical import tokens

# Words that say what unit a number is in, or how near it is: they do not name a subject.
UNIT_WORDS = {
    "thousand", "thousands", "million", "millions", "billion", "billions", "trillion", "bn", "mn", "m", "k",
    "usd", "eur", "gbp", "nok", "dollar", "dollars", "euro", "euros", "pound", "pounds", "cent", "cents",
    "percent", "per", "percentage", "points", "point", "pp", "approximately", "approx", "about", "around",
    "roughly", "nearly", "almost", "over", "under", "some", "and", "or", "to", "of", "a", "an", "the", "is",
    "was", "were", "are", "be", "it", "its", "total", "x", "times",
}  # fmt: skip
SMALL_WORDS = {"and", "or", "of", "the", "for", "in", "on", "to", "a", "an", "by", "at", "from", "with", "per", "&"}
QUANTITY = re.compile(
    r"\bhow (?:much|many|large|big|high|low)\b"
    r"|\bwhat (?:is|was|were|are) (?:the |its |their )?"
    r"(?:total|amount|number|value|sum|percentage|ratio|rate|share|size|cost|costs|price)\b"
    r"|\bwhat (?:percentage|percent|share|proportion|fraction|ratio|amount|number)\b",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’&-]*")


def asks_quantity(question: str) -> bool:
    """Does the question ask for a number (how much, how many, what was the total ...)?"""
    return bool(QUANTITY.search(question or ""))


def is_heading(words: list[str]) -> bool:
    """Up to 8 words, each capitalised but for small ones ("Total Restructuring Costs", "Cost of Sales")."""
    big = [w for w in words if w.lower() not in SMALL_WORDS]
    return 0 < len(words) <= 8 and bool(big) and all(w[0].isupper() for w in big)


def fragment(claim: str, question: str = "") -> str | None:
    """Why `claim` (markers ignored) names no subject: "a bare number", "a heading"; None when it is a sentence."""
    text = strip_marks(claim)
    words = WORD.findall(text)
    content = [w for w in words if w.lower() not in UNIT_WORDS]
    if re.search(r"\d", text) and not content:
        return "a bare number"
    if not re.search(r"\d", text) and is_heading(words):
        restates = set(tokens(" ".join(words))) <= set(tokens(question))
        if restates or asks_quantity(question):
            return "a heading"
    return None


NAMED_SHARE = 0.5  # of the question's words that the source's sentence or row holding the number must hold


def named_number(claim: str, sources: list[str], question: str) -> str | None:
    """A bare number as its cited source states it: "<label>: <number>" when a table row ("a | b | c") holds it and
    at least half of the row label's words are the question's; else the source's sentence holding it and at least
    half of the words of the question's first sentence (instructions after it, "Answer in USD millions", do not
    count). None when no source says so, or when the question names a year the sentence does not."""
    asked = set(tokens(question))
    first = set(tokens(re.split(r"(?<=[?.!])\s+", question.strip(), maxsplit=1)[0]))
    values = numbers(strip_marks(claim))
    if not first or not values:
        return None
    answer = strip_marks(claim).strip().rstrip(".")
    for text in sources:
        for line in re.split(r"(?<=[.!?])\s+|\n", text):
            if not all(number_found(v, numbers(line)) for v in values):
                continue
            if " | " in line:
                label = line.split(" | ")[0].strip()
                named = set(tokens(label))
                if WORD.search(label) and named and len(named & asked) >= NAMED_SHARE * len(named):
                    return f"{label}: {answer}."
                continue
            if len(first & set(tokens(line))) < NAMED_SHARE * len(first):
                continue
            years, stated = set(YEAR.findall(question)), set(YEAR.findall(line))
            if years and stated and not years & stated:  # the question's year is not the one the source states
                continue
            return line.strip()
    return None
