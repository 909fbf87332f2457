"""Ruled tables from a PDF page's strokes and words, with merged cells as colspan/rowspan."""

import re

from ingest.page import Block, Word, center_in


def cells_from_grid(grid: list[list[str | None]]) -> list[list[dict]]:
    """pdfplumber marks cells swallowed by a merge as None: fold them into colspan/rowspan.

    A None after a real cell in the same row widens that cell; a None at a position whose cell
    above is real (and not itself continued to the left) lengthens the cell above.
    """
    rows: list[list[dict]] = []
    owner: dict[tuple[int, int], dict] = {}
    for r, row in enumerate(grid):
        out: list[dict] = []
        for c, value in enumerate(row):
            if value is not None:
                cell = {"text": " ".join(str(value).split()), "colspan": 1, "rowspan": 1}
                out.append(cell)
                owner[(r, c)] = cell
                continue
            left = owner.get((r, c - 1)) if c > 0 else None
            above = owner.get((r - 1, c)) if r > 0 else None
            if left is not None and (above is None or above is not left):
                left["colspan"] += 1
                owner[(r, c)] = left
            elif above is not None:
                if owner.get((r - 1, c - 1)) is not above:  # first column of the cell above
                    above["rowspan"] += 1
                owner[(r, c)] = above
        rows.append(out)
    return rows


def _merge_close(values: list[float], tol: float = 1.5) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _occupied(bounds: list[float], centres: list[float]) -> list[bool]:
    """For each interval between consecutive bounds, whether a word centre lies in it."""
    return [any(a <= c <= b for c in centres) for a, b in zip(bounds, bounds[1:], strict=False)]


def _drop_empty(bounds: list[float], centres: list[float]) -> list[float]:
    """Bounds with every interval that holds no word merged into a neighbour (double rules, shading boxes, rules
    that separate nothing); the outer bounds stay."""
    keep = list(bounds)
    while len(keep) > 2:
        full = _occupied(keep, centres)
        if all(full):
            break
        i = full.index(False)
        del keep[i + 1 if i + 1 < len(keep) - 1 else i]
    return keep


def _nearest(bounds: list[float], v: float) -> int:
    return min(range(len(bounds)), key=lambda i: abs(bounds[i] - v))


def cell_text(words: list[Word]) -> str:
    """The words of one cell in reading order: lines top to bottom, words left to right."""
    return " ".join(w.text for line in _lines(words) for w in sorted(line, key=lambda w: w.x0))


NUMERIC = re.compile(r"^[\s$€£(+\-\u2212]*[\d.,]+[%)*]*$")


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into text lines by their vertical centre, top to bottom."""
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        mid = (w.top + w.bottom) / 2
        if lines and abs(mid - (lines[-1][0].top + lines[-1][0].bottom) / 2) < 0.5 * max(w.bottom - w.top, 1):
            lines[-1].append(w)
        else:
            lines.append([w])
    return lines


def _column(xs: list[float], x: float) -> int:
    return max(0, min(len(xs) - 2, next((i for i in range(len(xs) - 1) if x < xs[i + 1]), len(xs) - 2)))


def _split_bands(ys: list[float], xs: list[float], words: list[Word]) -> list[float]:
    """Row bounds with a band cut between its text lines where the lines are rows that no rule separates: two or
    more columns hold several lines each, and at least half the lines (two or more) are rows of figures (numbers
    in two columns beside the first, or in the one there is)."""
    out = [ys[0]]
    for a, b in zip(ys, ys[1:], strict=False):
        lines = _lines([w for w in words if a <= (w.top + w.bottom) / 2 <= b])
        if len(lines) >= 2:
            per_column: dict[int, int] = {}
            numeric = 0
            for line in lines:
                cols = {_column(xs, (w.x0 + w.x1) / 2) for w in line}
                for c in cols:
                    per_column[c] = per_column.get(c, 0) + 1
                numbers = {_column(xs, (w.x0 + w.x1) / 2) for w in line if NUMERIC.match(w.text)} - {0}
                numeric += len(numbers) >= min(2, len(xs) - 2)
            labelled = per_column.get(0, 0) >= 2  # the first column names the rows (else: one cell of several lines)
            if labelled and sum(n >= 2 for n in per_column.values()) >= 2 and numeric >= max(2, len(lines) / 2):
                for upper, lower in zip(lines, lines[1:], strict=False):
                    out.append((max(w.bottom for w in upper) + min(w.top for w in lower)) / 2)
        out.append(b)
    return out


def _separable(words: list[Word], bounds: list[float], vertical: bool) -> bool:
    """Whether the inner `bounds` of a spanning cell cut between its words: no word crosses one, the words fall
    on two or more sides, and (across columns) the gap at each used bound is wider than a space (a phrase centred
    over two columns stays one cell)."""
    inner = bounds[1:-1]
    lo, hi = ("top", "bottom") if vertical else ("x0", "x1")
    if not inner or any(getattr(w, lo) < b < getattr(w, hi) for w in words for b in inner):
        return False
    sides = {sum((getattr(w, lo) + getattr(w, hi)) / 2 > b for b in inner) for w in words}
    if len(sides) < 2:
        return False
    if vertical:
        return True
    for b in inner:
        left = [w.x1 for w in words if w.x1 <= b]
        right = [w.x0 for w in words if w.x0 >= b]
        size = max((w.bottom - w.top for w in words), default=1)
        if left and right and min(right) - max(left) < 1.0 * size:
            return False
    return True


def grid_from_cells(cells: list[tuple], words: list[Word]) -> list[list[dict]]:
    """Rows of cells from ruled cell boxes (x0, top, x1, bottom) and the words on the page.

    Columns and rows come from the cells' edges, less those that hold no word (a rule that separates nothing
    makes no column), plus cuts between text lines that are rows no rule separates. A box covering several of
    what remains is one cell with colspan/rowspan, unless its words fall apart along those bounds (a row ruled
    only above and below, over columns ruled in the header): then it is cut into its cells. A position no box
    covers is an empty cell; each cell's text is the words whose centre lies in it.
    """
    if not cells:
        return []
    inside = [w for w in words if any(center_in(w.bbox, c) for c in cells)]
    xs = _drop_empty(_merge_close([v for c in cells for v in (c[0], c[2])]), [(w.x0 + w.x1) / 2 for w in inside])
    ys = _drop_empty(_merge_close([v for c in cells for v in (c[1], c[3])]), [(w.top + w.bottom) / 2 for w in inside])
    if len(xs) < 2 or len(ys) < 2:
        return []
    ys = _split_bands(ys, xs, inside)
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    owner: dict[tuple[int, int], dict] = {}
    starts: dict[tuple[int, int], dict] = {}

    def place(r0: int, r1: int, c0: int, c1: int) -> None:
        box = (xs[c0], ys[r0], xs[c1], ys[r1])
        cell = {"text": cell_text([w for w in inside if center_in(w.bbox, box)]), "colspan": c1 - c0, "rowspan": r1 - r0}
        starts[(r0, c0)] = cell
        for r in range(r0, r1):
            for c in range(c0, c1):
                owner[(r, c)] = cell

    for x0, top, x1, bottom in sorted(cells, key=lambda c: (c[2] - c[0]) * (c[3] - c[1])):
        r0, r1, c0, c1 = _nearest(ys, top), _nearest(ys, bottom), _nearest(xs, x0), _nearest(xs, x1)
        if r1 <= r0 or c1 <= c0 or any((r, c) in owner for r in range(r0, r1) for c in range(c0, c1)):
            continue
        held = [w for w in inside if center_in(w.bbox, (xs[c0], ys[r0], xs[c1], ys[r1]))]
        rows = range(r0, r1) if r1 - r0 > 1 and _separable(held, ys[r0 : r1 + 1], True) else [r0]
        cols = range(c0, c1) if c1 - c0 > 1 and _separable(held, xs[c0 : c1 + 1], False) else [c0]
        for r in rows:
            for c in cols:
                place(r, r + 1 if len(rows) > 1 else r1, c, c + 1 if len(cols) > 1 else c1)
    rows_out: list[list[dict]] = []
    for r in range(n_rows):
        row = []
        for c in range(n_cols):
            if (r, c) in starts:
                row.append(starts[(r, c)])
            elif (r, c) not in owner:
                box = (xs[c], ys[r], xs[c + 1], ys[r + 1])
                row.append({"text": cell_text([w for w in inside if center_in(w.bbox, box)]), "colspan": 1, "rowspan": 1})
        rows_out.append(row)
    return rows_out


PERIOD = re.compile(
    r"^(?:(?:fiscal|fy|year|quarter|q[1-4])\s*)?(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*\d{1,2},?\s*)?"
    r"(?:(?:19|20)\d\d|'\d\d)?\s*[*(]?\w?[)]?$",
    re.IGNORECASE,
)


def _label_only(row: list[dict]) -> bool:
    """A row with text in its first cell alone and empty cells after it, in a table of three or more columns: a
    section label ("Assets", "Current liabilities:") that heads the rows below it, not the table's columns (one cell
    across the whole table is a title row, `split_caption`'s to judge)."""
    width = sum(c.get("colspan", 1) for c in row)
    return len(row) > 1 and width >= 3 and bool(row[0]["text"].strip()) and not any(c["text"].strip() for c in row[1:])


def _period_row(row: list[dict]) -> bool:
    """A row whose cells after the first name periods only ("2018 | 2017", "December 31, | December 31,")."""
    cells = [c["text"].strip() for c in row[1:] if c["text"].strip()]
    return bool(cells) and all(PERIOD.match(t) and any(ch.isalnum() for ch in t) for t in cells)


def header_rows(rows: list[list[dict]]) -> int:
    """How many leading rows are the header: one, or as many as a first-row cell spans downwards, and below a row
    with a spanning cell (a group heading) the next row too when it holds no number (headers stacked over rows);
    then every row right below that names periods only ("December 31," over "2018 | 2017"). None when the first row
    is a section label ("Assets" over a balance sheet's rows): repeated over every piece it would mislabel them."""
    if not rows or _label_only(rows[0]):
        return 0
    n = max(1, min(max(c.get("rowspan", 1) for c in rows[0]), len(rows) - 1))
    while (
        n < len(rows) - 1
        and any(c.get("colspan", 1) > 1 for c in rows[n - 1])
        and not any(NUMERIC.match(c["text"]) for c in rows[n] if c["text"])
        and not _label_only(rows[n])
    ):
        n += 1
    while n < len(rows) - 1 and n < 4 and _period_row(rows[n]) and _period_row(rows[n - 1]):
        n += 1
    return n


def table_text(rows: list[list[dict]]) -> str:
    """Plain text of a table, one row per line, cells separated by ' | '."""
    return "\n".join(" | ".join(c["text"] for c in row) for row in rows if row)


CAPTION = re.compile(r"^(table|tab\.|exhibit|schedule|chart|annex|appendix)\s*[\w.\-]*\b", re.IGNORECASE)


def split_caption(rows: list[list[dict]]) -> tuple[str, list[list[dict]]]:
    """A first row that is one cell across the whole table and reads as a title ("Table 3 ...") is the caption."""
    if len(rows) < 3 or len(rows[0]) != 1:
        return "", rows
    width = sum(c["colspan"] for c in rows[1]) if rows[1] else 0
    first = rows[0][0]
    if first["colspan"] >= max(width, 2) and first["rowspan"] == 1 and CAPTION.match(first["text"]):
        return first["text"], rows[1:]
    return "", rows


def _edge(segment: tuple) -> dict:
    x0, top, x1, bottom = segment
    horizontal = top == bottom
    return {
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": "h" if horizontal else "v",
        "object_type": "line",
    }


def grids(segments: list[tuple]) -> list[list[tuple]]:
    """The cell boxes of each ruled grid formed by `segments` (horizontal and vertical strokes, top-left origin).

    pdfplumber's geometry with its default tolerances (strokes snapped and joined within 3 points, cells between
    intersections), fed with the strokes pdfium read, so the page is never parsed a second time by pdfminer.
    """
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges
    from pdfplumber.utils import filter_edges

    if len(segments) < 4:
        return []
    edges = filter_edges([_edge(s) for s in segments], min_length=1)
    edges = merge_edges(edges, snap_x_tolerance=3, snap_y_tolerance=3, join_x_tolerance=3, join_y_tolerance=3)
    edges = filter_edges(edges, min_length=3)
    cells = intersections_to_cells(edges_to_intersections(edges, 3, 3))
    return [list(group) for group in cells_to_tables(cells)]


def ruled_tables(segments: list[tuple], words: list[Word]) -> list[Block]:
    """Ruled tables of a page as table Blocks (bbox in points, top-left origin), from its strokes and its words.

    A grid of fewer than two rows or columns is no table; a grid whose cells are mostly empty, or whose words sit in
    one box over a quarter of it or more, is a vector drawing (a chart, a diagram) and comes back as a figure.
    """
    blocks = []
    for cells in grids(segments):
        bbox = tuple(
            round(v, 1)
            for v in (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))
        )
        filled = sum(any(center_in(w.bbox, c) for w in words) for c in cells)
        if filled < 0.5 * len(cells):
            if len(cells) >= 4:
                blocks.append(Block(kind="figure", bbox=bbox))
            continue
        rows = grid_from_cells(cells, words)
        positions = sum(c["colspan"] * c["rowspan"] for r in rows for c in r)
        if any(c["colspan"] * c["rowspan"] > 0.25 * positions for r in rows for c in r if positions >= 8):
            blocks.append(Block(kind="figure", bbox=bbox))  # one box over much of the grid: a chart's gridlines
            continue
        caption, rows = split_caption(rows)
        if len(rows) < 2 or max(sum(c["colspan"] for c in r) for r in rows) < 2:
            continue
        blocks.append(
            Block(kind="table", bbox=bbox, rows=rows, text=table_text(rows), header_rows=header_rows(rows), caption=caption)
        )
    return blocks
