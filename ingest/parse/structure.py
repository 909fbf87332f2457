"""Document-level structure, decided once every page is laid out.

Running headers and footers by repetition across pages (and page-number patterns), the title and heading
levels (PDF outline first, then section numbering, then font size and weight), lists, captions attached to
their figures and tables, footnotes, and tables continued from the previous page.
"""

import math
import re

from ingest.page import Block, Page, center_in
from ingest.parse.layout import is_caps_heading
from rag.profiles.periods import YEAR

PAGE_NUMBER = re.compile(r"^(page\s*)?[-\u2013(]?\s*(\d{1,4}|[ivxlcdm]{1,6})\s*[-\u2013)]?(\s*(of|/)\s*\d{1,4})?$", re.I)
NUMBERING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?(?:\s+\S|(?=[A-Z][a-z]))")  # OCR may drop the space
CAPTION = re.compile(r"^(figure|fig\.|chart|exhibit|diagram|illustration|photo|table)\s*[\dA-Z]*[.:\s]", re.I)
MARGIN = 0.1
TITLE_LINES = 6  # short blocks that may open a page above a table: its title, a date, the years over the columns
TITLE_WORDS = 25
CONTENT = ("title", "heading", "paragraph", "list_item", "table", "figure", "caption", "footnote", "formula")


def _key(text: str) -> str:
    """What a running header or footer repeats: its words, any number in them counted as the same ("Page 3 of 9");
    a block that is only a number keeps it (one year over a column of figures is not every page's year)."""
    text = " ".join(text.lower().split())
    return text if re.fullmatch(r"[\d\W]+", text) else re.sub(r"\d+", "#", text)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def mark_running(pages: list[Page], body_size: float) -> None:
    """Tag blocks in the top/bottom margins as header/footer when they repeat across pages or are page numbers."""

    def in_margin(b: Block, p: Page) -> str:
        if b.kind in ("table", "figure") or len(b.text.split()) > 20:
            return ""
        if b.bbox[3] < MARGIN * p.height:
            return "header"
        if b.bbox[1] > (1 - MARGIN) * p.height:
            return "footer"
        return ""

    counts: dict[str, int] = {}
    for p in pages:
        for key in {_key(b.text) for b in p.blocks if in_margin(b, p)}:
            counts[key] = counts.get(key, 0) + 1
    threshold = max(2, math.ceil(0.4 * len(pages)))
    for p in pages:
        for b in p.blocks:
            zone = in_margin(b, p)
            if not zone:
                continue
            small = body_size and b.size < 0.95 * body_size
            extreme = b.bbox[3] < 0.05 * p.height or b.bbox[1] > 0.95 * p.height
            number = PAGE_NUMBER.match(b.text.strip()) and not YEAR.fullmatch(b.text.strip())  # a year heads a column
            if counts.get(_key(b.text), 0) >= threshold or number or (extreme and small):
                b.kind = zone


def ocr_heading(b: Block, full: str, body_size: float) -> bool:
    """A heading on a scan, where there is no font weight and box heights are only roughly font sizes.

    A line clearly taller than the body text (25%), or one short numbered line ("2.1 Upland reservoirs"),
    that does not end like a sentence.
    """
    words = len(full.split())
    if words > 12 or full.rstrip().endswith((".", ",", ";", ":")):
        return False
    one_line = (b.bbox[3] - b.bbox[1]) < 2.0 * max(b.size, 1)
    numbered = NUMBERING.match(full) and words <= 8 and not re.match(r"^[\d.]+\s+[a-z]", full)
    return bool(body_size and b.size >= 1.25 * body_size) or bool(numbered and one_line)


def classify_page(page: Page, body_size: float, first: bool) -> None:
    """Title, headings, captions, footnotes, list items and paragraphs of one page (in place).

    A block already marked `heading` came from a layout model's title region (scans) and stays one when short.
    """
    titled = _table_title(page)
    for b in page.blocks:
        if b.kind in ("header", "footer", "table", "figure", "formula"):
            continue
        full = f"{b.marker} {b.text}".strip() if b.kind == "list_item" else b.text
        words = len(full.split())
        bold = b.level == 1
        if page.source == "ocr":
            bold = False  # OCR has no weight; level 1 here only means nothing
            big = ocr_heading(b, full, body_size) or (b.kind == "heading" and words <= 25)
        else:
            big = bool(body_size) and b.size >= 1.12 * body_size
        if (
            first
            and body_size
            and b.size >= 1.6 * body_size
            and words <= 25
            and b.bbox[1] < 0.4 * page.height
            and not any(x.kind == "title" for x in page.blocks)
        ):
            b.kind, b.text, b.marker, b.level = "title", full, "", 1
        elif (big and words <= 25) or (bold and words <= 15 and not full.endswith((".", ":", ";", ","))) or is_caps_heading(full):
            b.kind, b.text, b.marker = "heading", full, ""
        elif CAPTION.match(full) and words <= 60:
            b.kind, b.level = "caption", 0
        elif body_size and b.size <= 0.85 * body_size and b.bbox[1] > 0.7 * page.height and b.kind != "list_item":
            b.kind, b.level = "footnote", 0
        elif b is titled:
            b.kind, b.text, b.marker = "heading", full, ""
        else:
            b.level = 0


def _table_title(page: Page) -> Block | None:
    """The centred lines opening a page above a table ("Consolidated Statements of Income ($ in millions)"): a section
    of its own, though set in the body font, so the heading of a previous page does not run on over it. Short lines
    may come before it in reading order (a date over the label column, the years over the figures: "As of June 30,",
    "2023", "2022"); the topmost centred one above the table is the title."""
    content = [b for b in page.blocks if b.kind not in ("header", "footer")]
    first = next((i for i, b in enumerate(content) if b.kind == "table"), 0)
    above = content[:first]
    if not above or len(above) > TITLE_LINES or any(b.kind not in ("paragraph", "heading") for b in above):
        return None
    if any(len(b.text.split()) > TITLE_WORDS for b in above):
        return None  # a paragraph opens the page: the table is not what the page is about
    top = content[first].bbox[1]
    titles = [b for b in above if _centred(b, page.width) and _short(b) and b.bbox[3] <= top + 1]
    return min(titles, key=lambda b: b.bbox[1]) if titles else None


def _centred(b: Block, page_width: float) -> bool:
    width = b.bbox[2] - b.bbox[0]
    return abs((b.bbox[0] + b.bbox[2]) / 2 - page_width / 2) < 0.05 * page_width and width < 0.7 * page_width


def _short(b: Block) -> bool:
    return len(b.text.split()) <= TITLE_WORDS and not b.text.rstrip().endswith((".", ";", ","))


def size_levels(sizes: list[float], tolerance: float = 0.0) -> dict[float, int]:
    """Heading level by size rank (largest h2, at most h4); sizes within `tolerance` (a fraction) of the first
    size of their group share its level (OCR box heights vary a little from line to line)."""
    levels: dict[float, int] = {}
    level, lead = 1, None
    for size in sorted(set(sizes), reverse=True):
        if lead is None or size < (1 - tolerance) * lead:
            level, lead = level + 1, size
        levels[size] = min(level, 4)
    return levels


def assign_heading_levels(pages: list[Page], body_size: float, toc: list[tuple[int, str]]) -> None:
    """h1 for the title; headings from the PDF outline depth, else numbering depth, else size rank, else bold.

    On scans, sizes (box heights) within 10% of each other count as one size.
    """
    headings = [b for p in pages for b in p.blocks if b.kind == "heading"]
    ocr = {id(b) for p in pages if p.source == "ocr" for b in p.blocks}
    sized = [b for b in headings if body_size and b.size >= 1.12 * body_size]
    by_size = size_levels([round(b.size * 2) / 2 for b in sized if id(b) not in ocr])
    by_ocr_size = size_levels([round(b.size * 2) / 2 for b in sized if id(b) in ocr], 0.1)
    bold_level = min(2 + len(set(by_size.values())), 4)
    outline = {_norm(title): depth for depth, title in toc if _norm(title)}
    for b in headings:
        numbered = NUMBERING.match(b.text)
        if _norm(b.text) in outline:
            b.level = min(outline[_norm(b.text)] + 2, 6)
        elif numbered:
            b.level = min(numbered.group(1).count(".") + 2, 6)
        else:
            levels = by_ocr_size if id(b) in ocr else by_size
            b.level = levels.get(round(b.size * 2) / 2, bold_level)


def _overlap_x(a: tuple, b: tuple) -> float:
    return min(a[2], b[2]) - max(a[0], b[0])


def attach_figures_and_captions(page: Page) -> None:
    """Move text inside each figure into it, and each caption next to a figure or table into that element."""
    figures = [b for b in page.blocks if b.kind == "figure"]
    for fig in figures:
        inside = [b for b in page.blocks if b.kind in ("paragraph", "list_item", "heading") and center_in(b.bbox, fig.bbox)]
        fig.text = "\n".join(b.text for b in inside)
        page.blocks = [b for b in page.blocks if b not in inside]
    targets = [b for b in page.blocks if b.kind in ("figure", "table")]
    for cap in [b for b in page.blocks if b.kind == "caption"]:
        want = "table" if cap.text.lower().startswith("table") else "figure"
        best, best_gap = None, 40.0
        for t in targets:
            if t.caption or _overlap_x(t.bbox, cap.bbox) <= 0 or (t.kind != want and want == "table"):
                continue
            gap = max(cap.bbox[1] - t.bbox[3], t.bbox[1] - cap.bbox[3])
            if -2 <= gap < best_gap:
                best, best_gap = t, gap
        if best is not None:
            best.caption = cap.text
            page.blocks.remove(cap)


def _columns(table: Block) -> int:
    return max((sum(c.get("colspan", 1) for c in row) for row in table.rows), default=0)


def mark_continued_tables(pages: list[Page]) -> None:
    """A page opening with a table of the same width as the table closing the previous page continues it."""
    for prev, page in zip(pages, pages[1:]):
        last = [b for b in prev.blocks if b.kind in CONTENT]
        first = [b for b in page.blocks if b.kind in CONTENT]
        if last and first and last[-1].kind == first[0].kind == "table" and _columns(last[-1]) == _columns(first[0]):
            table, previous = first[0], last[-1]
            table.continued = True
            header = [[c["text"] for c in row] for row in previous.rows[: previous.header_rows]]
            if [[c["text"] for c in row] for row in table.rows[: len(header)]] != header:
                table.header_rows = 0  # no repeated header: every row is data


def apply_document_structure(pages: list[Page], body_size: float, toc: list[tuple[int, str]] | None = None) -> None:
    """Every document-level decision, in order, on pages already in reading order."""
    mark_running(pages, body_size)
    for p in pages:
        classify_page(p, body_size, first=p.number == 1)
    assign_heading_levels(pages, body_size, toc or [])
    for p in pages:
        attach_figures_and_captions(p)
    mark_continued_tables(pages)
