"""Table detection and structure scores against human table regions (the ICDAR 2013 competition's format).

Per page, predicted tables are matched one-to-one to gold tables by content: the F1 of their cell words, or of
their character bigrams when spacing differs (the better of the two), with the assignment that maximises the
total similarity; a pair counts when it reaches `MIN_MATCH` (0.5). That gives detection precision, recall and F1.
Each matched pair is then scored by TEDS (`rag.evaluation.parse_scores.teds`) after both tables are flattened the
way the gold is written: `th` as `td`, `thead`/`tbody` dropped (header rows are ordinary rows), no caption, cell
text NFKC-normalised with whitespace collapsed. A missed gold table scores 0 in the headline mean.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from rag.evaluation.parse_scores import parse_table, teds

MIN_MATCH = 0.5

_CAPTION = re.compile(r"<caption\b.*?</caption>", re.IGNORECASE | re.DOTALL)
_SECTION = re.compile(r"</?(thead|tbody|tfoot)\b[^>]*>", re.IGNORECASE)
_CELL_OPEN = re.compile(r"<(th|td)\b([^>]*)>", re.IGNORECASE)
_CELL_CLOSE = re.compile(r"</th\s*>", re.IGNORECASE)
_TABLE_OPEN = re.compile(r"<table\b[^>]*>", re.IGNORECASE)
_SPAN_ATTR = re.compile(r"""\b(colspan|rowspan)\s*=\s*["']?(\d+)""", re.IGNORECASE)


def flat_table_html(html: str) -> str:
    """A table as the gold writes it: rows of `td` with their spans, nothing else; text NFKC-normalised."""
    html = _CAPTION.sub("", unicodedata.normalize("NFKC", html))
    html = _SECTION.sub("", html)
    html = _TABLE_OPEN.sub("<table>", html, count=1)

    def cell(match: re.Match) -> str:
        spans = "".join(f' {k.lower()}="{v}"' for k, v in _SPAN_ATTR.findall(match.group(2)) if int(v) > 1)
        return f"<td{spans}>"

    return _CELL_CLOSE.sub("</td>", _CELL_OPEN.sub(cell, html))


def cell_texts(html: str) -> list[str]:
    """The texts of a table's cells, in order (whitespace collapsed, NFKC)."""
    root = parse_table(flat_table_html(html))
    if root is None:
        return []
    out: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag in ("td", "th"):
            out.append(node.text)
        stack.extend(reversed(node.children))
    return out


def _f1(a: Counter, b: Counter) -> float:
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(b.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def _bigrams(text: str) -> Counter:
    squeezed = "".join(text.lower().split())
    return Counter(squeezed[i : i + 2] for i in range(len(squeezed) - 1))


def content_similarity(gold_cells: list[str], predicted_cells: list[str]) -> float:
    """How much two tables hold the same text, in [0, 1]: the better of word F1 and character-bigram F1."""
    gold_text, predicted_text = " ".join(gold_cells), " ".join(predicted_cells)
    words = _f1(Counter(gold_text.lower().split()), Counter(predicted_text.lower().split()))
    return max(words, _f1(_bigrams(gold_text), _bigrams(predicted_text)))


def best_assignment(scores: list[list[float]], minimum: float = MIN_MATCH) -> list[tuple[int, int]]:
    """One-to-one pairs (row, column) of `scores` with the largest total score, each at least `minimum`.

    Exact, by dynamic programming over the subsets of the smaller side (a page holds a handful of tables).
    """
    n_rows = len(scores)
    n_cols = len(scores[0]) if scores else 0
    if not n_rows or not n_cols:
        return []
    transposed = n_cols > n_rows
    if transposed:
        scores = [list(col) for col in zip(*scores, strict=True)]
        n_rows, n_cols = n_cols, n_rows
    # best[mask] = (total, pairs) using some rows so far and exactly the columns in mask
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for r in range(n_rows):
        step = dict(best)
        for mask, (total, pairs) in best.items():
            for c in range(n_cols):
                if mask >> c & 1 or scores[r][c] < minimum:
                    continue
                key = mask | 1 << c
                value = total + scores[r][c]
                if key not in step or value > step[key][0]:
                    step[key] = (value, [*pairs, (r, c)])
        best = step
    pairs = max(best.values(), key=lambda item: item[0])[1]
    return sorted((c, r) for r, c in pairs) if transposed else sorted(pairs)


@dataclass
class GoldTable:
    id: str
    page: int
    html: str
    spanning: bool


@dataclass
class PageMatch:
    """The outcome for one gold table: the TEDS of its matched prediction (0.0 when missed)."""

    id: str
    page: int
    spanning: bool
    matched: bool
    similarity: float
    teds: float
    teds_structure: float


@dataclass
class RegionScore:
    """Scores of one document (or one gold variant of it)."""

    doc: str
    gold: list[PageMatch] = field(default_factory=list)
    predicted: int = 0

    @property
    def matched(self) -> int:
        return sum(g.matched for g in self.gold)

    @property
    def total_teds(self) -> float:
        return sum(g.teds for g in self.gold)


def has_span(html: str) -> bool:
    return any(int(v) > 1 for _, v in _SPAN_ATTR.findall(html))


def score_document(doc: str, gold: list[GoldTable], predicted: dict[int, list[str]]) -> RegionScore:
    """Match each page's predicted tables (`predicted[page]`, HTML) to its gold tables, then TEDS each match."""
    result = RegionScore(doc=doc, predicted=sum(len(v) for v in predicted.values()))
    for page in sorted({g.page for g in gold}):
        golds = [g for g in gold if g.page == page]
        ours = [flat_table_html(t) for t in predicted.get(page, [])]
        gold_cells = [cell_texts(g.html) for g in golds]
        our_cells = [cell_texts(t) for t in ours]
        sims = [[content_similarity(gc, oc) for oc in our_cells] for gc in gold_cells]
        pairs = dict(best_assignment(sims)) if ours else {}
        for i, g in enumerate(golds):
            j = pairs.get(i)
            if j is None:
                best = max(sims[i], default=0.0)
                result.gold.append(PageMatch(g.id, page, g.spanning, False, round(best, 4), 0.0, 0.0))
                continue
            gold_flat = flat_table_html(g.html)
            result.gold.append(
                PageMatch(
                    g.id,
                    page,
                    g.spanning,
                    True,
                    round(sims[i][j], 4),
                    round(teds(gold_flat, ours[j]), 4),
                    round(teds(gold_flat, ours[j], structure_only=True), 4),
                )
            )
    return result


def summarise(scores: list[RegionScore]) -> dict:
    """Detection precision/recall/F1 and the TEDS means over a set of documents."""
    gold = [g for s in scores for g in s.gold]
    predicted = sum(s.predicted for s in scores)
    matched = sum(s.matched for s in scores)
    precision = matched / predicted if predicted else 0.0
    recall = matched / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 4) if values else None

    return {
        "gold_tables": len(gold),
        "predicted_tables": predicted,
        "matched": matched,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "teds": mean([g.teds for g in gold]),
        "teds_matched": mean([g.teds for g in gold if g.matched]),
        "teds_structure": mean([g.teds_structure for g in gold]),
        "teds_simple": mean([g.teds for g in gold if not g.spanning]),
        "teds_spanning": mean([g.teds for g in gold if g.spanning]),
        "simple_tables": sum(not g.spanning for g in gold),
        "spanning_tables": sum(g.spanning for g in gold),
    }
