"""Ruled tables from a PDF text layer (pdfplumber), with merged cells as colspan/rowspan."""

from ingest.page import Block


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


def _index(values: list[float], v: float, tol: float = 1.5) -> int:
    return min(range(len(values)), key=lambda i: abs(values[i] - v)) if values else 0


def cells_from_geometry(cells: list[tuple], grid: list[list[str | None]]) -> list[list[dict]]:
    """Rows of cells with spans measured from the cells' own boxes (exact for merged cells).

    `cells` are pdfplumber's cell boxes (x0, top, x1, bottom); `grid` its extracted text, one row per distinct
    top and one column per distinct left edge, None where a merged cell covers the position.
    """
    xs = sorted({round(v, 1) for c in cells for v in (c[0], c[2])})
    ys = sorted({round(v, 1) for c in cells for v in (c[1], c[3])})
    xs = [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] > 1.5]
    ys = [y for i, y in enumerate(ys) if i == 0 or y - ys[i - 1] > 1.5]
    placed: dict[tuple[int, int], dict] = {}
    for x0, top, x1, bottom in cells:
        r, c = _index(ys, top), _index(xs, x0)
        rowspan, colspan = max(1, _index(ys, bottom) - r), max(1, _index(xs, x1) - c)
        text = grid[r][c] if r < len(grid) and c < len(grid[r]) and grid[r][c] is not None else ""
        placed[(r, c)] = {"text": " ".join(str(text).split()), "colspan": colspan, "rowspan": rowspan}
    n_rows = max((r for r, _ in placed), default=-1) + 1
    return [[placed[k] for k in sorted(k for k in placed if k[0] == r)] for r in range(n_rows)]


def header_rows(rows: list[list[dict]]) -> int:
    """How many leading rows are the header: one, or as many as a first-row cell spans downwards."""
    if not rows:
        return 0
    return max(1, min(max(c.get("rowspan", 1) for c in rows[0]), len(rows) - 1))


def table_text(rows: list[list[dict]]) -> str:
    """Plain text of a table, one row per line, cells separated by ' | '."""
    return "\n".join(" | ".join(c["text"] for c in row) for row in rows if row)


def extract_tables(page) -> list[Block]:
    """Ruled tables on a pdfplumber page as table Blocks (bbox in PDF points, top-left origin).

    A grid whose cells are mostly empty is a vector drawing (a chart, a diagram): it comes back as a figure.
    """
    blocks = []
    for table in page.find_tables():
        grid = table.extract()
        if not grid or len(grid) < 2 or max(len(r) for r in grid) < 2:
            continue
        filled = sum(1 for row in grid for v in row if v not in (None, ""))
        if filled < 0.5 * sum(1 for row in grid for v in row if v is not None):
            blocks.append(Block(kind="figure", bbox=tuple(round(v, 1) for v in table.bbox)))
            continue
        rows = cells_from_geometry(table.cells, grid) if table.cells else cells_from_grid(grid)
        bbox = tuple(round(v, 1) for v in table.bbox)
        blocks.append(Block(kind="table", bbox=bbox, rows=rows, text=table_text(rows), header_rows=header_rows(rows)))
    return blocks
