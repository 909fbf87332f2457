"""Excel workbooks (XLSX, XLSM; XLS and ODS after LibreOffice turns them into XLSX) read with openpyxl.

One section per sheet (`data-page` is the sheet's number, `data-label` "Sheet NAME"), the sheet's name its `h2`.
Cells hold their cached values (`data_only`: formulas are never evaluated), written as the sheet shows them
(percentages, thousands separators, dates). A sheet's filled cells fall apart into tables at empty rows and
empty columns: each block of two or more cells is a `<table>` (merged cells kept as colspan/rowspan; the first
row is its header when it is all text), a lone cell is a paragraph, and a lone text cell right above a table is
that table's caption. Boxes are in cells, not points: `data-bbox="c0,r0,c1,r1"` is columns c0+1..c1 and rows
r0+1..r1 (so `0,0,4,5` is A1:D5), which is the cell range a citation gives.

Limits: a package that inflates too far is refused (`ingest.formats.package`); at most `MAX_CELLS` filled cells
a workbook and `MAX_TABLE_CELLS` cells a table are read, the rest reported as not read.
"""

import datetime
import io
import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

from ingest.formats.package import Package, load_package, open_package, read_part
from ingest.formats.sections import block, header_like, is_number, unit_page
from ingest.page import Block, ParsedDocument
from ingest.parse.tables import table_text
from rag.core.errors import TooLarge

MAX_CELLS = 2_000_000
MAX_TABLE_CELLS = 500_000
MAX_MERGED_CELLS = 1_000_000  # openpyxl makes an object for every cell a merged range covers: checked before loading
MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"')


def cell_text(value, number_format: str = "General") -> str:
    """A cell's value as the sheet shows it (roughly: percent, thousands separators and decimals, dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, int | float):
        fmt = (number_format or "General").split(";")[0]
        decimals = len(fmt.split(".")[1]) - len(fmt.split(".")[1].lstrip("0")) if "." in fmt else 0
        if "%" in fmt:
            return f"{value * 100:.{decimals}f}%"
        if "#,##0" in fmt:
            return f"{value:,.{decimals}f}"
        if "0." in fmt:
            return f"{value:.{decimals}f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return f"{value:g}" if isinstance(value, float) and abs(value) < 1e15 else str(value)
    return " ".join(str(value).split())


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted indexes as runs of consecutive ones: (first, last)."""
    out: list[tuple[int, int]] = []
    for i in indexes:
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def regions(cells: set[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Blocks of filled cells (row0, col0, row1, col1), cut at empty rows, then at columns empty within the band,
    then again at rows empty within that column run; in reading order."""
    out: list[tuple[int, int, int, int]] = []
    for r0, r1 in _runs(sorted({r for r, _ in cells})):
        band = [(r, c) for r, c in cells if r0 <= r <= r1]
        for c0, c1 in _runs(sorted({c for _, c in band})):
            rows = sorted({r for r, c in band if c0 <= c <= c1})
            out.extend((a, c0, b, c1) for a, b in _runs(rows))
    return sorted(out)


def _grid(ws, region, cells, merges) -> list[list[dict]]:
    r0, c0, r1, c1 = region
    rows = []
    for r in range(r0, r1 + 1):
        row = []
        for c in range(c0, c1 + 1):
            span = merges.get((r, c))
            if span is None and (r, c) in merges["covered"]:
                continue
            rowspan, colspan = span or (1, 1)
            row.append({"text": cells.get((r, c), ""), "colspan": min(colspan, c1 - c + 1), "rowspan": min(rowspan, r1 - r + 1)})
        rows.append(row)
    return rows


def _merges(ws) -> dict:
    out: dict = {"covered": set()}
    for rng in ws.merged_cells.ranges:
        out[(rng.min_row, rng.min_col)] = (rng.max_row - rng.min_row + 1, rng.max_col - rng.min_col + 1)
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    out["covered"].add((r, c))
    return out


def _sheet_blocks(ws, budget: list[int], notes: list[str]) -> list[Block]:
    cells: dict[tuple[int, int], str] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or budget[0] <= 0:
                continue
            text = cell_text(cell.value, cell.number_format)
            if text:
                cells[(cell.row, cell.column)] = text
                budget[0] -= 1
    if budget[0] <= 0:
        notes.append(f"sheet {ws.title}: read up to the workbook's limit of {MAX_CELLS:,} filled cells")
    merges = _merges(ws)
    blocks: list[Block] = [block("heading", ws.title, level=2)]
    # cells a merge covers count as filled, so a merged area does not split its table
    for region in regions(set(cells) | merges["covered"]):
        r0, c0, r1, c1 = region
        bbox = (float(c0 - 1), float(r0 - 1), float(c1), float(r1))
        if (r1 - r0 + 1) * (c1 - c0 + 1) > MAX_TABLE_CELLS:
            notes.append(f"sheet {ws.title}: table {get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r1} too large, not read")
            continue
        rows = _grid(ws, region, cells, merges)
        filled = sum(1 for row in rows for cell in row if cell["text"])
        if filled <= 1 and len(rows) == 1:
            text = " ".join(cell["text"] for cell in rows[0] if cell["text"])
            blocks.append(block("paragraph", text, bbox=bbox))
            continue
        caption = ""
        last = blocks[-1]
        if (
            len(rows) > 2
            and len(rows[0]) > 1
            and [bool(cell["text"]) for cell in rows[0]].count(True) == 1
            and rows[0][0]["text"]
        ):
            caption, rows = rows[0][0]["text"], rows[1:]  # a title in the first cell of the row over the table
        elif last.kind == "paragraph" and last.bbox[3] >= r0 - 2 and not is_number(last.text):
            caption = blocks.pop().text  # a lone cell right above the table (one empty row between)
        header = header_like(rows[0])
        blocks.append(block("table", table_text(rows), bbox=bbox, rows=rows, header_rows=1 if header else 0, caption=caption))
    return blocks


def check_merges(package: Package, name: str) -> None:
    """Refuse a workbook whose merged ranges cover more than `MAX_MERGED_CELLS` cells (one range over a whole
    sheet would make openpyxl build 17 billion cell objects): a decompression bomb of another kind."""
    total = 0
    with zipfile.ZipFile(package.data) as z:
        for part in z.namelist():
            if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
                continue
            for c0, r0, c1, r1 in MERGE_REF.findall(read_part(z, part, name)):
                cols = abs(column_index_from_string(c1.decode()) - column_index_from_string(c0.decode())) + 1
                total += cols * (abs(int(r1) - int(r0)) + 1)
                if total > MAX_MERGED_CELLS:
                    raise TooLarge(
                        f"{name}: refused as a decompression bomb (merged ranges in {part} cover over {MAX_MERGED_CELLS:,} cells)"
                    )
    package.data.seek(0)


def _workbook(data: io.BytesIO) -> openpyxl.Workbook:
    return openpyxl.load_workbook(data, data_only=True, keep_vba=False, keep_links=False, rich_text=False)


def read_xlsx(path: Path, name: str) -> ParsedDocument:
    package = open_package(path, name)
    check_merges(package, name)
    book = load_package(package, name, _workbook, "Excel workbook")
    notes = list(package.notes)
    budget = [MAX_CELLS]
    pages = []
    for number, ws in enumerate(book.worksheets, 1):
        pages.append(
            unit_page(number, f"Sheet {ws.title}", _sheet_blocks(ws, budget, notes), float(ws.max_column), float(ws.max_row))
        )
    props = book.properties
    metadata = {k: v for k, v in (("title", props.title), ("author", props.creator), ("subject", props.subject)) if v}
    return ParsedDocument(name, pages, "xlsx", metadata=metadata, notes=notes)
