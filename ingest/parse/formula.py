"""Display formulas: lines set apart from the text, made mostly of symbols, often numbered "(1)" at the right.

A display formula becomes one `formula` block whose text is the formula followed by its number, and whose
`marker` is the number alone ("1", "2.3"). Born-digital pages have no formula tag in their text layer, so a
block counts as a formula when it is short (at most three lines), made of math (a relation or operator sign,
most tokens one or two characters, numbers or symbols) and either centred in its column or labelled by an
equation number on the same line. On scans the layout model's `equation` regions say so directly.
"""

import re
from collections.abc import Sequence

from ingest.page import Block, center_in
from rag.core.errors import RagError

EQ_NUMBER = re.compile(r"^\(\s*(\d{1,3}(?:\.\d{1,3})?[a-z]?)\s*\)$")
RELATIONS = set("=<>\u2264\u2265\u2248\u2260\u2261\u221d\u2192\u2211\u220f\u222b")
OPERATORS = set("+-\u2212\u00d7\u00f7\u00b1\u00b7\u2219/*^\u221a\u2202\u2207\u221e") | RELATIONS
MATH_CHARS = (
    OPERATORS | set("()[]{}|!,.\u00b2\u00b3\u00b9\u00bd\u00bc\u00be") | {chr(c) for c in range(0x391, 0x3CA)}
)  # Greek letters
MAX_LINES = 3


def _math_token(token: str) -> bool:
    """One or two letters (a variable), a number, an indexed variable, or a token holding a math sign."""
    core = token.strip("()[]{},.;")
    if not core:
        return True
    if len(core) <= 2 or any(c in MATH_CHARS for c in core):
        return True
    return bool(re.fullmatch(r"[\d.,]+|[A-Za-z]{1,2}\d{1,2}", core))  # a number, or an indexed variable ("Q2", "mc2")


def looks_like_math(text: str) -> bool:
    """Whether a line reads as a formula: a relation or operator sign and mostly math tokens, few words."""
    tokens = text.split()
    if not tokens or not any(c in OPERATORS for c in text):
        return False
    math = sum(_math_token(t) for t in tokens)
    words = sum(len(re.sub(r"[^A-Za-z]", "", t)) >= 4 for t in tokens)
    if math / len(tokens) < 0.7 or words > max(1, len(tokens) // 4):
        return False
    if any(c in RELATIONS for c in text):
        return True
    # no relation sign: an expression of variables ("a + b x c"), not a range of numbers ("2023 - 2024")
    variables = any(re.fullmatch(r"[A-Za-z\u0391-\u03c9]", t.strip("()[]{},.;")) for t in tokens)
    return math == len(tokens) and variables and sum(c in OPERATORS for c in text) >= 2


def _column(block: Block, gutters: Sequence[float], left: float, right: float) -> tuple[float, float]:
    """The column (between gutters or text edges) holding a block's centre."""
    cx = (block.bbox[0] + block.bbox[2]) / 2
    lo = max([g for g in gutters if g < cx], default=left)
    hi = min([g for g in gutters if g > cx], default=right)
    return lo, hi


def is_centred(block: Block, lo: float, hi: float) -> bool:
    """Indented on both sides by about the same amount (a display line), not a full-width line."""
    width = hi - lo
    indent_left, indent_right = block.bbox[0] - lo, hi - block.bbox[2]
    return width > 0 and min(indent_left, indent_right) >= 0.08 * width and abs(indent_left - indent_right) <= 0.12 * width


def _lines(block: Block) -> int:
    height = block.bbox[3] - block.bbox[1]
    return max(1, round(height / max(block.size * 1.2, 1)))


def _same_line(a: Block, b: Block) -> bool:
    mid = (b.bbox[1] + b.bbox[3]) / 2
    return a.bbox[1] - 2 <= mid <= a.bbox[3] + 2


def _merge_number(formula: Block, number: Block) -> None:
    numbered = EQ_NUMBER.match(number.text.strip())
    if numbered is None:
        raise RagError(f"not an equation number: {number.text!r}")
    formula.kind = "formula"
    formula.marker = numbered.group(1)
    formula.text = f"{formula.text} ({formula.marker})"
    formula.bbox = (
        min(formula.bbox[0], number.bbox[0]),
        min(formula.bbox[1], number.bbox[1]),
        max(formula.bbox[2], number.bbox[2]),
        max(formula.bbox[3], number.bbox[3]),
    )


def mark_formulas(blocks: list[Block], gutters: Sequence[float] = (), regions: Sequence[tuple] = ()) -> list[Block]:
    """Blocks with display formulas turned into `formula` blocks, their equation numbers merged into them.

    `regions` are formula boxes from a layout model (scans): blocks centred in one become one formula.
    """
    text = [b for b in blocks if b.kind in ("paragraph", "list_item")]
    if not text:
        return blocks
    left, right = min(b.bbox[0] for b in text), max(b.bbox[2] for b in text)
    gone: set[int] = set()
    for region in regions:
        inside = [b for b in text if center_in(b.bbox, region) and id(b) not in gone]
        if inside:
            first = inside[0]
            for other in inside[1:]:
                first.text = f"{first.text} {other.text}"
                gone.add(id(other))
            numbered = re.search(r"\(\s*(\d{1,3}(?:\.\d{1,3})?[a-z]?)\s*\)$", first.text)
            first.kind, first.marker = "formula", numbered.group(1) if numbered else ""
            first.bbox = tuple(round(v, 1) for v in region)
    numbers = [b for b in text if EQ_NUMBER.match(b.text.strip()) and id(b) not in gone]
    for number in numbers:
        lo, hi = _column(number, gutters, left, right)
        beside = [
            b
            for b in text
            if b is not number
            and id(b) not in gone
            and _same_line(b, number)
            and b.bbox[2] < number.bbox[0]
            and b.bbox[0] >= lo - 2
            and _lines(b) <= MAX_LINES
        ]
        if beside:
            formula = max(beside, key=lambda b: b.bbox[2])
            if looks_like_math(formula.text) or formula.kind == "formula" or is_centred(formula, lo, hi):
                _merge_number(formula, number)
                gone.add(id(number))
    for b in text:
        if id(b) in gone or b.kind == "formula" or b.kind == "list_item" or _lines(b) > MAX_LINES:
            continue
        lo, hi = _column(b, gutters, left, right)
        if looks_like_math(b.text) and is_centred(b, lo, hi):
            b.kind = "formula"
    return [b for b in blocks if id(b) not in gone]
