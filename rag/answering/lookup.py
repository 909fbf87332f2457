"""Table lookups: a question naming a table row and a column ("How much total current assets did Nike have at the
end of FY2019?") answered from the cell, verbatim, with the row as the citation's quote. No model writes it.

A source's table rows are its lines with cells ("Total current assets |  | 16,525 | 15,134"); the leading rows of a
table whose cells after the first hold no figure (only years, words or nothing) are its header rows, and a column's
header is what they hold above it (aligned from the right, where the figures are). A row is named when every word of
its label that says what the row is (not "Total", "Net", "provided") is a word of the question, and there is one;
among named rows the one naming the most such words wins, then the one with fewest words left out, then the
better-ranked source. The column is the one whose header
holds the latest year the question names, or the only column of figures when it names none. A question asking for
something derived (a ratio, a change, an average, a margin, a comparison) or for no value at all is no lookup.

Only sources of the documents the question names are looked in (the caller says which), so a question about a
company the collection does not hold is never answered from another company's table.
"""

import re
from dataclasses import dataclass

from rag.answering.extract import ROW
from rag.core.types import Hit
from rag.profiles.periods import YEAR, question_periods
from rag.retrieval.lexical import tokens

ASKS_VALUE = re.compile(r"\b(?:what (?:is|was|were|are)|how much|how many)\b", re.IGNORECASE)
DERIVED = re.compile(
    r"\b(?:ratio|ratios|growth|grow|grew|change|changed|changes|average|margin|margins|percent|percents|percentage|"
    r"turnover|compare|compared|comparison|difference|between|increase|increased|decrease|decreased|per|"
    r"improve|improved|improving|trend|cagr)\b|%",
    re.IGNORECASE,
)
FIGURE = re.compile(r"\(?-?\$?\s?\d[\d,]*(?:\.\d+)?\s?\)?%?")
SCALE = re.compile(r"\b(?:thousands|millions|billions)\b", re.IGNORECASE)  # "(Dollars in millions)", "$ in thousands"
GENERIC = frozenset(tokens("total totals net other others subtotal amount amounts balance item items"))
ABOVE = 4  # lines of text above a table that may hold its column headers ("2020", "Year Ended December 31, 2019")
FILLER = GENERIC | frozenset(tokens("provided used"))  # label words a question may leave out ("net cash provided by")
# Words that make a line item another one ("operating income" is not "Net income"): before a row's words in a
# question they mean the row is not the one asked for, unless the row's label has them too.
QUALIFIERS = frozenset(
    tokens("operating gross comprehensive diluted basic adjusted unadjusted pretax current noncurrent deferred accrued")
)


@dataclass
class Lookup:
    n: int  # the source's number (1-based rank among the hits)
    label: str  # the row's label, verbatim
    column: str  # the column's header, verbatim ("2019")
    value: str  # the cell's figure, verbatim ("16,525")
    row: str  # the whole row, verbatim: the citation's quote
    scale: str = ""  # the table's unit, when its header or a line above it states one: "in millions"

    @property
    def text(self) -> str:
        scale = f" ({self.scale})" if self.scale else ""
        return f"{self.label} ({self.column}): {self.value}{scale} [{self.n}]"


def asks_lookup(question: str) -> bool:
    """Does the question ask for one stated value (what was, how much), nothing derived from several?"""
    return bool(ASKS_VALUE.search(question)) and not DERIVED.search(question)


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("|")]


def _figure(cell: str) -> str | None:
    """The figure a cell holds ("4,466 $" -> "4,466"), or None; a year alone is no figure."""
    m = FIGURE.search(cell)
    if not m or YEAR.fullmatch(cell.strip()):
        return None
    return m.group(0).strip()


def _is_header(row: list[str]) -> bool:
    return all(not c or YEAR.search(c) or _figure(c) is None for c in row[1:])


@dataclass
class Table:
    headers: list[list[str]]  # header rows, as cells
    lines: list[str]  # data rows, verbatim
    above: list[str]  # the lines of text right above the table (at most `ABOVE`)


def tables(text: str) -> list[Table]:
    """The tables of a source text, in order."""
    out: list[Table] = []
    block: list[str] = []
    prose: list[str] = []
    for line in [*text.splitlines(), ""]:
        if ROW in line or line.rstrip().endswith(" |"):
            block.append(line.strip())
            continue
        if block:
            rows = [cells(x) for x in block]
            head = 0
            while head < len(rows) - 1 and _is_header(rows[head]):
                head += 1
            out.append(Table(rows[:head], block[head:], prose[-ABOVE:]))
            block, prose = [], []
        if line.strip():
            prose.append(line.strip())
    return out


def scale_of(table: Table) -> str:
    """The table's unit, "in millions", from the nearest line above it or header cell that states one; "" if none."""
    stated = [m.group(0).lower() for c in [*table.above, *(c for h in table.headers for c in h)] if (m := SCALE.search(c))]
    return f"in {stated[-1]}" if stated else ""


def _header_of(headers: list[list[str]], width: int, j: int) -> str:
    """What the header rows hold above cell j of a row of `width` cells (aligned from the right)."""
    parts = []
    for h in headers:
        k = len(h) - (width - j)
        if 0 <= k < len(h) and h[k]:
            parts.append(h[k])
    return " ".join(parts)


def named(label: str, question: list[str], items: frozenset[str] = frozenset()) -> tuple[int, int]:
    """(label words that say what the row is, -label words the question leaves out) when the question (its words in
    order) holds every one of the former and at least one of them; (0, 0) when it does not name the row. Filler
    words ("net", "total", "provided") may be left out: "cash from operating activities" names "Net cash provided by
    operating activities". A row is not named by words the question qualifies with another line item's word
    (`items`: the telling words of the sources' row labels) or a qualifier (`QUALIFIERS`): "operating income" does
    not name "Net income"."""
    words = set(tokens(label))
    telling = {w for w in words if w not in FILLER and not w.isdigit()}
    if not telling or not telling <= set(question) or not any(len(w) >= 3 for w in telling):
        return (0, 0)
    starts = [i for i, w in enumerate(question) if w in telling and (i == 0 or question[i - 1] not in telling)]
    if all(i and (before := question[i - 1]) in items | QUALIFIERS and before not in words for i in starts):
        return (0, 0)
    return (len(telling), -len(words - set(question)))


def line_items(hits: list[Hit], sources: list[int] | None = None) -> frozenset[str]:
    """The telling words of every table row label in the (allowed) hits."""
    out: set[str] = set()
    for n, hit in enumerate(hits, 1):
        if sources is None or n in sources:
            for table in tables(hit.text):
                out.update(w for line in table.lines for w in tokens(cells(line)[0]) if w not in FILLER)
    return frozenset(out)


def lookup(question: str, hits: list[Hit], sources: list[int] | None = None) -> Lookup | None:
    """The cell of a table in the hits that answers `question`, or None. `sources`: the 1-based numbers of the hits
    that may be looked in (default all)."""
    if not asks_lookup(question):
        return None
    asked, items = tokens(question), line_items(hits, sources)
    years = [p.year for p in question_periods(question) if not p.quarter]
    year = str(max(years)) if years else None
    best: tuple[tuple[int, int, int], Lookup] | None = None
    for n, hit in enumerate(hits, 1):
        if sources is not None and n not in sources:
            continue
        for table in tables(hit.text):
            scale = scale_of(table)
            for line in table.lines:
                row = cells(line)
                rank = named(row[0], asked, items)
                if not rank[0]:
                    continue
                found = _cell(row, table, year)
                if found is None:
                    continue
                column, value = found
                key = (*rank, -n)
                if best is None or key > best[0]:
                    best = (key, Lookup(n=n, label=row[0], column=column, value=value, row=line, scale=scale))
    return best[1] if best else None


def columns(row: list[str], table: Table) -> list[tuple[str, str]]:
    """(column header, figure) of each cell of the row holding a figure. When no header row names a year and the
    lines above the table name as many years as the row has figures ("2020", "Year Ended December 31, 2019", "2018"
    over three columns: headers the parse left as text), those years head the columns, in order."""
    filled = [(j, f) for j, c in enumerate(row) if j and (f := _figure(c)) is not None]
    out = [(_header_of(table.headers, len(row), j), f) for j, f in filled]
    if not any(YEAR.search(c) for c, _ in out):
        years = YEAR.findall(" ".join(table.above))
        if years and len(years) == len(filled):
            out = [(y, f) for y, (_, f) in zip(years, out, strict=True)]
    return out


def _cell(row: list[str], table: Table, year: str | None) -> tuple[str, str] | None:
    """(column header, figure) of the row's cell under the asked year, or under its only figure when no year is
    asked; None when there is no such cell."""
    found = columns(row, table)
    if year is None:
        return found[0] if len(found) == 1 else None
    for column, value in found:
        if year in YEAR.findall(column):
            return column, value
    return None
