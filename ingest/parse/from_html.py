"""The stored layout HTML read back into a ParsedDocument: the inverse of `to_html`.

Parsing a PDF is the slow part of ingestion (a 150-page filing: about two minutes on 2 cores); chunking its
layout takes well under a second. Reading the HTML that ingestion keeps under `<data dir>/html` lets a changed
chunker re-chunk every stored document without parsing any file again (`rag index rebuild --rechunk`).
`to_html(read_layout_html(html)) == html` for every HTML `to_html` writes; what the HTML does not hold (a
block's font size, a list item's marker) comes back empty, and the chunker uses neither.
"""

from html.parser import HTMLParser

from ingest.page import Block, Page, ParsedDocument
from ingest.parse.tables import table_text
from rag.core.errors import BadInput

KINDS = {"h1": "title", "p": "paragraph", "header": "header", "footer": "footer", "li": "list_item"}
CLASSES = {"caption", "footnote", "formula"}


def _bbox(value: str | None) -> tuple[float, float, float, float]:
    parts = [float(v) for v in (value or "").split(",") if v]
    return (parts + [0.0, 0.0, 0.0, 0.0])[:4]  # type: ignore[return-value]


def _is_heading(tag: str) -> bool:
    return len(tag) == 2 and tag[0] == "h" and tag[1].isdigit()


class _LayoutReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.name = ""
        self.pages: list[Page] = []
        self.block: Block | None = None  # the block whose text is being read
        self.table: Block | None = None
        self.figure: Block | None = None
        self.row: list[dict] | None = None
        self.cell: dict | None = None
        self.head_rows = 0
        self.in_head = self.in_caption = False
        self.list_ordered = False
        self.aside: tuple | None = None

    def _page(self) -> Page:
        if not self.pages:
            raise BadInput("layout HTML has a block outside any <section data-page>")
        return self.pages[-1]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article":
            self.name = a.get("data-doc") or ""
        elif tag == "section":
            self.pages.append(
                Page(
                    number=int(a.get("data-page") or len(self.pages) + 1),
                    width=float(a.get("data-width") or 0),
                    height=float(a.get("data-height") or 0),
                    source=a.get("data-source") or "text",
                    error=a.get("data-error") or "",
                    warning=a.get("data-warning") or "",
                    rotation=int(a.get("data-rotation") or 0),
                    label=a.get("data-label") or "",
                )
            )
        elif tag == "aside":
            self.aside = _bbox(a.get("data-bbox"))
        elif tag in ("ul", "ol"):
            self.list_ordered = tag == "ol"
        elif tag == "table":
            self.table = Block(kind="table", bbox=_bbox(a.get("data-bbox")), continued=a.get("data-continued") == "true")
            self.head_rows = 0
        elif self.table is not None:
            if tag == "caption":
                self.in_caption = True
            elif tag == "thead":
                self.in_head = True
            elif tag == "tr":
                self.row = []
            elif tag in ("td", "th"):
                self.cell = {"text": "", "colspan": int(a.get("colspan") or 1), "rowspan": int(a.get("rowspan") or 1)}
        elif tag == "figure":
            self.figure = Block(kind="figure", bbox=_bbox(a.get("data-bbox")), aside=self.aside)
        elif self.figure is not None:
            if tag in ("p", "figcaption"):
                self.block = Block(kind="figcaption" if tag == "figcaption" else "line", bbox=(0, 0, 0, 0))
        elif tag in KINDS or _is_heading(tag):
            kind, level = KINDS.get(tag, "heading"), 0
            if kind == "heading":
                level = int(tag[1])
            cls = a.get("class") or ""
            if tag == "p" and cls in CLASSES:
                kind = cls
            self.block = Block(
                kind=kind,
                bbox=_bbox(a.get("data-bbox")),
                level=level,
                ordered=self.list_ordered if kind == "list_item" else False,
                marker=a.get("data-number") or "",
                aside=self.aside,
            )

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data
        elif self.in_caption and self.table is not None:
            self.table.caption += data
        elif self.block is not None:
            self.block.text += data

    def handle_endtag(self, tag):
        if tag == "aside":
            self.aside = None
        elif self.table is not None:
            if tag in ("td", "th") and self.cell is not None and self.row is not None:
                self.row.append(self.cell)
                self.cell = None
            elif tag == "tr" and self.row is not None:
                self.table.rows.append(self.row)
                self.head_rows += self.in_head
                self.row = None
            elif tag == "thead":
                self.in_head = False
            elif tag == "caption":
                self.in_caption = False
            elif tag == "table":
                t = self.table
                # no <thead>: a table of one row kept its default header row; a longer one had none
                t.header_rows = self.head_rows if self.head_rows else (1 if len(t.rows) <= 1 else 0)
                t.text = table_text(t.rows)
                t.aside = self.aside
                self._page().blocks.append(t)
                self.table = None
        elif self.figure is not None:
            if tag in ("p", "figcaption") and self.block is not None:
                if self.block.kind == "figcaption":
                    self.figure.caption = self.block.text
                else:
                    self.figure.text += ("\n" if self.figure.text else "") + self.block.text
                self.block = None
            elif tag == "figure":
                self._page().blocks.append(self.figure)
                self.figure = None
        elif self.block is not None and (tag in ("p", "li", "header", "footer") or _is_heading(tag)):
            self._page().blocks.append(self.block)
            self.block = None


def read_layout_html(html: str, kind: str = "pdf") -> ParsedDocument:
    """A ParsedDocument from the HTML `to_html` wrote (the `<data dir>/html/<doc id>.html` of a stored document)."""
    if "<article" not in html:
        raise BadInput("not layout HTML: no <article> with <section data-page> elements")
    reader = _LayoutReader()
    reader.feed(html)
    reader.close()
    return ParsedDocument(name=reader.name, pages=reader.pages, kind=kind)
