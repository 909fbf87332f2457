"""Table calculations: a question asking for a value derived from table cells ("How much did the effective tax rate
change between FY2021 and FY2022?", "What is the ratio of total current assets to total current liabilities in
2020?") answered without a model. This module only picks the cells and writes the calculation in the form the
prompt teaches (`growth(70,848 [1], 69,575 [1]) =`); the answer's citation check (rag.answering.calculations)
then checks every operand against its source and computes the result, exactly as for a model's calculation.

Two shapes, read by rules from the question (the rows and columns as rag.answering.lookup reads them):

- **over periods**: one row the question names, the question names two or more years and asks for a change
  (change, increase, decrease, grow, growth, difference, year-over-year) or an average. The cells under the earliest
  and the latest year give `change(a, b)` (b - a; percentage points when the cells are percentages), or
  `growth(a, b)` (percent) when the question asks for a rate or a percentage or says grow/growth of amounts;
  "average" averages the cells of every year from the earliest to the latest (all must be there).
- **between rows**: the question names two rows joined by "divided by", "ratio of A to B", "A to B ratio" or "A as a
  percentage (share, %) of B", under the same column (the latest year it names, or the only column of figures).
  That gives `ratio(a, b)`, or `share(a, b)` (percent) for "as a percentage of".

Anything else (a margin or turnover whose parts the question does not name, three rows, two documents) is left to
the model. Only sources of documents the question names are used (the caller says which), as for lookups.
"""

import re
from dataclasses import dataclass

from rag.answering.lookup import Table, cells, columns, line_items, named, scale_of, tables
from rag.core.types import Hit
from rag.profiles.periods import YEAR, question_periods
from rag.retrieval.lexical import tokens

CHANGE = re.compile(
    r"\b(?:change[sd]?|increase[sd]?|decrease[sd]?|gr[eo]w[ns]?|growth|difference|year[- ]over[- ]year|yoy)\b", re.I
)
AVERAGE = re.compile(r"\b(?:average|mean)\b", re.I)
PERCENT = re.compile(r"%|\bpercent(?:s|age)?\b|\brate of\b|\bgrowth rate\b|\bgr[eo]w[ns]?\b|\bgrowth\b", re.I)
_PART = r"([a-z][a-z ,&'\-]*?)"
_END = r"(?=[.,;?:]|$| (?:for|in|at|of|as of|during|from|between|over)\b)"  # where a row's name ends
RATIO = (  # (pattern, function): group 1 is the numerator's words, group 2 the denominator's
    (
        re.compile(rf"\bratio of (?:the )?{_PART} to (?:the )?{_PART}{_END}", re.I),
        "ratio",
    ),
    (re.compile(rf"{_PART} divided by (?:the )?{_PART}{_END}", re.I), "ratio"),
    (re.compile(rf"{_PART} to (?:the )?{_PART} ratio\b", re.I), "ratio"),
    (
        re.compile(
            rf"{_PART} as an? (?:%|percent(?:age)?|share|proportion) of (?:the )?{_PART}{_END}",
            re.I,
        ),
        "share",
    ),
)
SENTENCES = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")
FORMULA = re.compile(r"[/*+×÷]|\b(?:divided|times|multiplied|plus|minus)\b", re.I)  # the sentence spells a formula
WINDOW = 8  # words of the question on each side of "divided by" that may name a row


@dataclass
class TableCalculation:
    draft: str  # the sentence with its calculation, to be checked and computed like a model's
    n: int  # the first source it takes a cell from
    label: str  # the row, or "numerator row / denominator row"
    column: str  # "2018 to 2019", or the column's header
    function: str  # change | growth | average | ratio | share
    scale: str = ""


@dataclass
class _Row:
    n: int
    label: str
    columns: list[tuple[str, str]]
    table: Table
    rank: tuple[int, int, int]


def _rows(words: list[str], hits: list[Hit], sources: list[int] | None) -> list[_Row]:
    """Every table row `words` name, best named first (then the better-ranked source)."""
    items = line_items(hits, sources)
    out = []
    for n, hit in enumerate(hits, 1):
        if sources is not None and n not in sources:
            continue
        for table in tables(hit.text):
            for line in table.lines:
                row = cells(line)
                rank = named(row[0], words, items)
                if rank[0]:
                    out.append(_Row(n, row[0], columns(row, table), table, (*rank, -n)))
    return sorted(out, key=lambda r: r.rank, reverse=True)


def _under(row: _Row, year: int) -> str | None:
    return next((v for c, v in row.columns if str(year) in YEAR.findall(c)), None)


def _is_percent(value: str) -> bool:
    return value.rstrip().endswith("%")


def table_calculation(question: str, hits: list[Hit], sources: list[int] | None = None) -> TableCalculation | None:
    """The calculation over table cells in `hits` that answers `question`, or None. `sources`: the 1-based numbers
    of the hits that may be used (default all)."""
    return _between_rows(question, hits, sources) or _over_periods(question, hits, sources)


def _asking(question: str, pattern: re.Pattern) -> str:
    """The question's first sentence that `pattern` finds ("" if none): rows are named there, not by the words of
    another sentence ("... shown in the statement of income" names no "Net income" row)."""
    return next((s for s in SENTENCES.split(question) if pattern.search(s)), "")


def _over_periods(question: str, hits: list[Hit], sources: list[int] | None) -> TableCalculation | None:
    average = bool(AVERAGE.search(question))
    sentence = _asking(question, AVERAGE if average else CHANGE)
    if not sentence or FORMULA.search(sentence) or any(p.search(sentence) for p, _ in RATIO):
        return None  # a change or average inside a bigger formula is the model's to write
    years = sorted({p.year for p in question_periods(sentence) if not p.quarter})
    if len(years) < 2:
        return None
    first, last = years[0], years[-1]
    span = list(range(first, last + 1)) if average else [first, last]
    for row in _rows(tokens(sentence), hits, sources):
        values = [_under(row, y) for y in span]
        if any(v is None for v in values):
            continue
        marked = [f"{v} [{row.n}]" for v in values]
        if average:
            function = "average"
        elif PERCENT.search(question) and not _is_percent(values[0] or ""):
            function = "growth"
        else:
            function = "change"
        column = f"{first} to {last}"
        draft = f"{row.label} ({column}): {function}({', '.join(marked)}) =."
        return TableCalculation(draft, row.n, row.label, column, function, scale_of(row.table))
    return None


def _between_rows(question: str, hits: list[Hit], sources: list[int] | None) -> TableCalculation | None:
    for pattern, function in RATIO:
        m = pattern.search(question)
        if not m or AVERAGE.search(m.group(0)) or CHANGE.search(m.group(0)):
            continue  # "the average of capex as a % of revenue": more than one calculation
        top_words, bottom_words = tokens(m.group(1))[-WINDOW:], tokens(m.group(2))[:WINDOW]
        tops, bottoms = _rows(top_words, hits, sources), _rows(bottom_words, hits, sources)
        years = [p.year for p in question_periods(question) if not p.quarter]
        for top in tops:
            bottom = next((b for b in bottoms if b.label != top.label), None)
            if bottom is None:
                continue
            pair = _same_column(top, bottom, max(years) if years else None)
            if pair is None:
                continue
            column, a, b = pair
            label = f"{top.label} / {bottom.label}"
            draft = f"{label} ({column}): {function}({a} [{top.n}], {b} [{bottom.n}]) =."
            return TableCalculation(draft, top.n, label, column, function, scale_of(top.table))
    return None


def _same_column(top: _Row, bottom: _Row, year: int | None) -> tuple[str, str, str] | None:
    """(column, numerator cell, denominator cell) under the asked year, or under the only column when none is
    asked (both rows with one figure)."""
    if year is None:
        if len(top.columns) == 1 and len(bottom.columns) == 1:
            return top.columns[0][0], top.columns[0][1], bottom.columns[0][1]
        return None
    a, b = _under(top, year), _under(bottom, year)
    return (str(year), a, b) if a is not None and b is not None else None
