"""Tables without rules, found in a text layer by alignment: runs of at least three rows whose short
segments fall into the same three or more columns.

A row may start with a long label when the rest of it is values (a statement's "Property, plant and equipment,
net of accumulated depreciation ... | 15,371 | 15,804"), and a run keeps the label-only rows between its rows
("Current assets:"), a label wrapped over two lines becoming one cell."""

import re

from ingest.page import Block, Word, words_box
from ingest.parse.layout import group_lines
from ingest.parse.tables import NUMERIC, header_rows, table_text
from rag.profiles.periods import YEAR

MAX_CELL_WORDS = 6
MAX_LABEL_WORDS = 24  # a row's first cell may be a long label when every other cell of the row is a value
MAX_LABEL_ROWS = 3  # label-only rows in a row inside a table ("Commitments", "Equity:", a wrapped label)
MIN_ROWS = 3
MIN_COLS = 3
VALUE = re.compile(r"^[\s$€£(+\-\u2212\u2013\u2014]*[\d.,]*[%)*\s$€£\u2013\u2014-]*$")  # 1,577  (370)  $  —  4.5%


def _rows(segments: list[list[Word]]) -> list[list[tuple]]:
    """Segments grouped into visual rows (by vertical centre), each row sorted left to right."""
    rows: list[list[tuple]] = []
    for seg in sorted(segments, key=lambda s: words_box(s)[1]):
        box = words_box(seg)
        mid, h = (box[1] + box[3]) / 2, box[3] - box[1]
        for row in rows:
            rb = row[0][1]
            if abs((rb[1] + rb[3]) / 2 - mid) < 0.5 * max(h, rb[3] - rb[1], 1):
                row.append((seg, box))
                break
        else:
            rows.append([(seg, box)])
    return [sorted(r, key=lambda item: item[1][0]) for r in rows]


def _columns(run: list[list[tuple]]) -> list[tuple[float, float]]:
    """Column x-ranges: the union of overlapping segment ranges across the rows of a run."""
    spans = sorted((box[0], box[2]) for row in run for _, box in row)
    cols: list[list[float]] = []
    for x0, x1 in spans:
        if cols and x0 <= cols[-1][1] + 1:
            cols[-1][1] = max(cols[-1][1], x1)
        else:
            cols.append([x0, x1])
    return [(a, b) for a, b in cols]


def _text(seg: list[Word]) -> str:
    return " ".join(w.text for w in seg)


def _tableish(row: list[tuple]) -> bool:
    """Two or more short segments, or a label of up to MAX_LABEL_WORDS followed by values only."""
    if len(row) < MIN_COLS - 1 or any(len(seg) > MAX_CELL_WORDS for seg, _ in row[1:]):
        return False
    first = row[0][0]
    if len(first) <= MAX_CELL_WORDS:
        return True
    values = [_text(seg) for seg, _ in row[1:]]
    return len(first) <= MAX_LABEL_WORDS and all(VALUE.match(v) for v in values) and any(c.isdigit() for v in values for c in v)


def _label_rows(rows: list[list[tuple]], j: int, left: tuple[float, float]) -> int:
    """How many label-only rows (one segment starting left of the label column's right edge `left[1]`) follow from row j, up to
    MAX_LABEL_ROWS, when a table row comes right after them; 0 otherwise."""
    n = 0
    while n < MAX_LABEL_ROWS and j + n < len(rows) and len(rows[j + n]) == 1:
        seg, box = rows[j + n][0]
        if len(seg) > MAX_LABEL_WORDS or box[0] > left[1]:  # indented less or more, within the labels
            return 0
        n += 1
    return n if n and j + n < len(rows) and _tableish(rows[j + n]) else 0


def _wrapped(run: list[list[tuple]]) -> list[list[tuple]]:
    """A long label-only row directly above an indented row's label (the same label wrapped) joins that label;
    a section label ("Current assets:") stays a row of its own."""
    out: list[list[tuple]] = []
    for row in run:
        prev = out[-1] if out else None
        if prev is not None and len(prev) == 1 and len(row) > 1:
            (pseg, pbox), (seg, box) = prev[0], row[0]
            line = max(pbox[3] - pbox[1], 1)
            wrapped = len(pseg) > MAX_CELL_WORDS and not _text(pseg).endswith(":")
            if wrapped and box[0] > pbox[0] + 2 and box[1] - pbox[3] < 0.5 * line:
                joined = (pseg + seg, (pbox[0], pbox[1], max(pbox[2], box[2]), box[3]))
                out[-1] = [joined] + row[1:]
                continue
        out.append(row)
    return out


def _value_row(row: list[tuple]) -> bool:
    """A label and values after it, not a header of years ("2023 | 2022")."""
    values = [_text(seg) for seg, _ in row[1:]]
    return bool(values) and all(VALUE.match(v) for v in values) and not all(YEAR.fullmatch(v) for v in values)


def _accepted(run: list[list[tuple]]) -> list[tuple[float, float]] | None:
    """The columns of a run that reads as a table: enough rows and columns, a quarter of its cells numbers, and
    no more columns than its widest row has segments, plus one. Where rows of values are the most part, the columns
    come from those alone, so a header spread over two columns ("December 3, November 27,") does not join them."""
    if len(run) < MIN_ROWS:
        return None
    values = [row for row in run if _value_row(row)]
    cols = _columns(values if len(values) >= MIN_ROWS and len(values) * 2 >= len(run) else run)
    cells = [seg for row in run for seg, _ in row]
    numeric = sum(bool(NUMERIC.match(_text(seg))) for seg in cells)
    widest = max(len(r) for r in run)
    if len(cols) >= MIN_COLS and widest >= MIN_COLS and numeric >= 0.25 * len(cells) and len(cols) <= widest + 1:
        return cols
    return None


def _cells(row: list[tuple], cols: list[tuple[float, float]]) -> list[dict]:
    """One row of the grid. A segment goes in the columns it overlaps (the nearest one if none): one cell spanning
    them, or, where segments' spans cross, each in the column it overlaps most."""
    spans = []
    for seg, b in row:
        hit = [k for k, (c0, c1) in enumerate(cols) if min(b[2], c1) > max(b[0], c0)]
        if not hit:
            mid = (b[0] + b[2]) / 2
            hit = [min(range(len(cols)), key=lambda k: abs((cols[k][0] + cols[k][1]) / 2 - mid))]
        spans.append([hit[0], hit[-1], _text(seg), b])
    spans.sort(key=lambda sp: (sp[0], sp[1]))
    merged: list[list] = []
    for sp in spans:
        if merged and merged[-1][:2] == sp[:2]:
            merged[-1][2] += " " + sp[2]
        else:
            merged.append(sp)
    if any(a[1] >= b[0] for a, b in zip(merged, merged[1:])):  # spans cross: one column each, by overlap
        texts: list[list[str]] = [[] for _ in cols]
        for _, _, text, b in merged:
            k = max(range(len(cols)), key=lambda k: min(b[2], cols[k][1]) - max(b[0], cols[k][0]))
            texts[k].append(text)
        return [{"text": " ".join(t), "colspan": 1, "rowspan": 1} for t in texts]
    out, k = [], 0
    for k0, k1, text, _ in merged:
        out += [{"text": "", "colspan": 1, "rowspan": 1} for _ in range(k, k0)]
        out.append({"text": text, "colspan": k1 - k0 + 1, "rowspan": 1})
        k = k1 + 1
    return out + [{"text": "", "colspan": 1, "rowspan": 1} for _ in range(k, len(cols))]


def find_unruled_tables(words: list[Word], gutters: list[float] | None = None) -> list[Block]:
    """Table blocks for aligned runs of short segments; the caller drops the words inside their boxes."""
    rows = _rows(group_lines(words, gutters))
    tables: list[Block] = []
    i = 0
    while i < len(rows):
        if not _tableish(rows[i]):
            i += 1
            continue
        j = i + 1
        while j < len(rows):
            labels = 0 if _tableish(rows[j]) else _label_rows(rows, j, (rows[i][0][1][0], rows[i][0][1][2]))
            if not labels and not _tableish(rows[j]):
                break
            gap = rows[j][0][1][1] - max(b[3] for _, b in rows[j - 1])
            if gap > 2.5 * max(rows[j][0][1][3] - rows[j][0][1][1], 1):
                break
            j += max(labels, 1)
        run = _wrapped(rows[i:j])
        cols = _accepted(run)
        if cols is None and len(run) > MIN_ROWS:  # a header row whose labels sit off the columns of the values
            cols = _accepted(run[1:])
        if cols is not None:
            grid = [_cells(row, cols) for row in run]
            boxes = [b for row in run for _, b in row]
            bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
            box = tuple(round(v, 1) for v in bbox)
            tables.append(Block(kind="table", bbox=box, rows=grid, text=table_text(grid), header_rows=header_rows(grid)))
        i = j
    return tables
