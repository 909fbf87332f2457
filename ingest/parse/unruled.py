"""Tables without rules, found in a text layer by alignment: runs of at least three rows whose short
segments fall into the same three or more columns."""

from ingest.page import Block, Word, words_box
from ingest.parse.layout import group_lines
from ingest.parse.tables import NUMERIC, table_text

MAX_CELL_WORDS = 6
MIN_ROWS = 3
MIN_COLS = 3


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


def _tableish(row: list[tuple]) -> bool:
    return len(row) >= MIN_COLS - 1 and all(len(seg) <= MAX_CELL_WORDS for seg, _ in row)


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
        while j < len(rows) and _tableish(rows[j]):
            gap = rows[j][0][1][1] - max(b[3] for _, b in rows[j - 1])
            if gap > 2.5 * max(rows[j][0][1][3] - rows[j][0][1][1], 1):
                break
            j += 1
        run = rows[i:j]
        cols = _columns(run)
        cells = [seg for row in run for seg, _ in row]
        numeric = sum(bool(NUMERIC.match(" ".join(w.text for w in seg))) for seg in cells)
        if (
            len(run) >= MIN_ROWS
            and len(cols) >= MIN_COLS
            and max(len(r) for r in run) >= MIN_COLS
            and numeric >= 0.25 * len(cells)
            and len(cols) <= max(len(r) for r in run) + 1
        ):
            grid = []
            for row in run:
                out = []
                for c0, c1 in cols:
                    text = " ".join(" ".join(w.text for w in seg) for seg, b in row if min(b[2], c1) > max(b[0], c0))
                    out.append({"text": text, "colspan": 1, "rowspan": 1})
                grid.append(out)
            boxes = [b for row in run for _, b in row]
            bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
            tables.append(Block(kind="table", bbox=tuple(round(v, 1) for v in bbox), rows=grid, text=table_text(grid)))
        i = j
    return tables
