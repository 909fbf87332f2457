"""Blocks of a document without printed pages gathered into the layout's sections (`Page`s).

A flow document (DOCX, HTML, Markdown, plain text, e-mail) has no pages, but a section is what a chunk's `page`
points to and what retrieval keeps at most two chunks of, so the flow is cut into sections: at every heading of
the top two levels, and at any heading (else at a paragraph) once a section holds `SECTION_WORDS` words. Each
section's label is the heading it opens with, the location a citation gives. Units of their own (slides, sheets)
make one section each (`unit_page`).
"""

from ingest.page import Block, Page

SECTION_WORDS = 600  # a section past this many words ends at its next heading, or past twice as many at a paragraph
NO_BOX = (0.0, 0.0, 0.0, 0.0)  # blocks of flow formats have no position on a page


def is_number(text: str) -> bool:
    """ "1,200", "-3.5", "25%": a value, not a label."""
    return text.replace(",", "").replace(".", "", 1).replace("%", "").replace("-", "", 1).strip().isdigit()


def header_like(row: list[dict]) -> bool:
    """Whether a table's first row reads as its header: every cell holds text and none a number."""
    return bool(row) and all(c["text"] and not is_number(c["text"]) for c in row)


def block(kind: str, text: str = "", **fields) -> Block:
    """A block with no box (flow formats)."""
    return Block(kind=kind, bbox=fields.pop("bbox", NO_BOX), text=text, **fields)


def _kept(b: Block) -> bool:
    """A block with something in it (a picture's figure is kept for its OCR, `ingest.formats.images`)."""
    return bool(b.text.strip() or b.rows or b.caption.strip() or b.marker.startswith("image:"))


def _words(b: Block) -> int:
    if b.kind == "table":
        return sum(len(c["text"].split()) for row in b.rows for c in row)
    return len(b.text.split()) + len(b.caption.split())


def flow_pages(blocks: list[Block], first_label: str = "") -> list[Page]:
    """The flow cut into sections (see the module's doc); empty blocks dropped; at least one section."""
    pages: list[Page] = []
    words = 0  # words of body blocks (not headings) in the current section
    label = first_label
    for b in blocks:
        if not _kept(b):
            continue
        heading = b.kind in ("title", "heading")
        top = heading and b.level <= 3  # h1 (title), h2, h3: a document's title and its top two heading levels
        cut = words > 0 and ((heading and (top or words >= SECTION_WORDS)) or (not heading and words >= 2 * SECTION_WORDS))
        if not pages or cut:
            label = b.text.strip() if heading else label
            pages.append(Page(len(pages) + 1, 0, 0, [], label=label))
            words = 0
        pages[-1].blocks.append(b)
        words += 0 if heading else _words(b)
    return pages or [Page(1, 0, 0, [], label=first_label)]


def unit_page(number: int, label: str, blocks: list[Block], width: float = 0, height: float = 0) -> Page:
    """One slide or sheet as one section."""
    return Page(number, width, height, [b for b in blocks if _kept(b)], label=label)
