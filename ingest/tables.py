"""Ruled tables from a PDF text layer (pdfplumber), with merged cells as colspan/rowspan."""

from ingest.model import Block


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


def table_text(rows: list[list[dict]]) -> str:
    """Plain text of a table, one row per line, cells separated by ' | '."""
    return "\n".join(" | ".join(c["text"] for c in row) for row in rows if row)


def extract_tables(page) -> list[Block]:
    """Ruled tables on a pdfplumber page as table Blocks (bbox in PDF points, top-left origin)."""
    blocks = []
    for table in page.find_tables():
        grid = table.extract()
        if not grid or len(grid) < 2 or max(len(r) for r in grid) < 2:
            continue
        rows = cells_from_grid(grid)
        bbox = tuple(round(v, 1) for v in table.bbox)
        blocks.append(Block(kind="table", bbox=bbox, rows=rows, text=table_text(rows)))
    return blocks
