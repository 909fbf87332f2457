"""HTML and XHTML pages (and Markdown, rendered to HTML first) read with the standard library's `html.parser`.

Nothing in the page is run or fetched: the parser only tokenises, and the text of `script`, `style`,
`noscript`, `template`, `iframe`, `object`, `svg` and the head (its `<title>` aside) is dropped, as are event
attributes and `javascript:` links (the stored layout HTML is written from text alone, so no markup of the page
survives; the report says how many scripts were removed). `h1` is the title, `h2`-`h6` headings; `p`, `div`,
`blockquote`, `pre` and the like paragraphs; `li` list items of their `ol`/`ul`; `table` with `caption`,
`th`/`thead` header rows, colspan and rowspan; `figure` with `figcaption` (an `img`'s alt text inside it);
`aside` blocks. The flow is cut into sections at headings (`ingest.formats.sections`).
"""

from html.parser import HTMLParser
from pathlib import Path

from ingest.formats.sections import block, flow_pages
from ingest.formats.text import decode
from ingest.page import Block, ParsedDocument
from ingest.parse.tables import table_text

SKIPPED = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head", "select", "button"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
BLOCKS = {
    "p", "div", "blockquote", "pre", "address", "dd", "dt", "section", "article", "main", "header", "footer", "nav",
    "form", "fieldset", "details", "summary", "center", "body", "html", "hr", "dl",
}  # fmt: skip
MAX_SPAN = 1000


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), MAX_SPAN))
    except ValueError:
        return 1


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.kind, self.level = "paragraph", 0
        self.skip = 0  # depth inside dropped elements
        self.lists: list[bool] = []  # open lists: ordered?
        self.tables: list[dict] = []  # open tables: {rows, row, cell, head, caption, in_caption, thead_rows}
        self.figure: dict | None = None
        self.aside = 0
        self.title = ""
        self.in_title = False
        self.scripts = 0
        self.dropped_attributes = 0

    # text of the block being read
    def flush(self) -> None:
        text = " ".join("".join(self.text).split())
        self.text = []
        if not text:
            self.kind, self.level = "paragraph", 0
            return
        if self.figure is not None:
            self.figure["text"].append(text)
        else:
            ordered = self.lists[-1] if self.lists else False
            self.blocks.append(
                block(self.kind, text, level=self.level, ordered=ordered, aside=(0.0, 0.0, 0.0, 0.0) if self.aside else None)
            )
        self.kind, self.level = "paragraph", 0

    def handle_starttag(self, tag, attrs):
        self.dropped_attributes += sum(
            1 for k, v in attrs if k.startswith("on") or (v or "").strip().lower().startswith("javascript:")
        )
        if tag == "title":
            self.in_title = True
        if self.skip:
            self.scripts += tag == "script"
            if tag not in VOID:
                self.skip += 1
            return
        if tag in SKIPPED:
            self.scripts += tag == "script"
            self.skip = 1
            return
        a = dict(attrs)
        table = self.tables[-1] if self.tables else None
        if tag in ("td", "th") and table is not None:
            self._end_cell(table)
            table["cell"] = {
                "text": [],
                "colspan": _span(a.get("colspan")),
                "rowspan": _span(a.get("rowspan")),
                "th": tag == "th",
            }
            return
        if tag == "tr" and table is not None:
            self._end_row(table)
            table["row"] = []
            return
        if table is not None and table.get("cell") is not None and tag not in ("table",):
            if tag == "br":
                table["cell"]["text"].append(" ")
            return  # markup inside a cell: its text goes into the cell
        if tag == "br":
            self.text.append("\n")
        elif tag == "img" and self.figure is not None and a.get("alt"):
            self.figure["text"].append(a["alt"])
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.flush()
            self.kind, self.level = ("title", 1) if tag == "h1" else ("heading", int(tag[1]))
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists.append(tag == "ol")
        elif tag == "li":
            self.flush()
            self.kind = "list_item"
        elif tag == "table":
            self.flush()
            self.tables.append(
                {"rows": [], "row": None, "cell": None, "head": 0, "in_head": False, "caption": [], "in_caption": False}
            )
        elif tag == "caption" and table is not None:
            table["in_caption"] = True
        elif tag == "thead" and table is not None:
            table["in_head"] = True
        elif tag == "figure":
            self.flush()
            self.figure = {"text": [], "caption": ""}
        elif tag == "figcaption" and self.figure is not None:
            self.flush()
            self.kind = "figcaption"
        elif tag == "aside":
            self.flush()
            self.aside += 1
        elif tag in BLOCKS:
            self.flush()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if self.skip:
            self.skip -= 1
            return
        table = self.tables[-1] if self.tables else None
        if table is not None:
            if tag in ("td", "th"):
                self._end_cell(table)
                return
            if tag == "tr":
                self._end_row(table)
                return
            if tag == "thead":
                self._end_row(table)
                table["in_head"] = False
                return
            if tag == "caption":
                table["in_caption"] = False
                return
            if tag == "table":
                self._end_table()
                return
            if table.get("cell") is not None:
                return
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456" or tag == "li" or tag in BLOCKS:
            self.flush()
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "figcaption" and self.figure is not None:
            self.figure["caption"] = " ".join("".join(self.text).split())
            self.text, self.kind = [], "paragraph"
        elif tag == "figure" and self.figure is not None:
            self.flush()
            figure, self.figure = self.figure, None
            self.blocks.append(block("figure", "\n".join(figure["text"]), caption=figure["caption"]))
        elif tag == "aside":
            self.flush()
            self.aside = max(0, self.aside - 1)

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.skip:
            return
        table = self.tables[-1] if self.tables else None
        if table is not None:
            if table.get("cell") is not None:
                table["cell"]["text"].append(data)
            elif table["in_caption"]:
                table["caption"].append(data)
            return
        self.text.append(data)

    def _end_cell(self, table: dict) -> None:
        cell = table.get("cell")
        if cell is None:
            return
        if table["row"] is None:
            table["row"] = []
        table["row"].append(
            {
                "text": " ".join("".join(cell["text"]).split()),
                "colspan": cell["colspan"],
                "rowspan": cell["rowspan"],
                "th": cell["th"],
            }
        )
        table["cell"] = None

    def _end_row(self, table: dict) -> None:
        self._end_cell(table)
        if table["row"]:
            table["rows"].append(table["row"])
            leading = table["head"] == len(table["rows"]) - 1  # every row before this one is a header row
            if leading and (table["in_head"] or all(c["th"] for c in table["row"])):
                table["head"] += 1
        table["row"] = None

    def _end_table(self) -> None:
        table = self.tables.pop()
        self._end_row(table)
        rows = [[{k: c[k] for k in ("text", "colspan", "rowspan")} for c in row] for row in table["rows"]]
        caption = " ".join("".join(table["caption"]).split())
        if not rows:
            return
        if self.tables:  # a table inside a table's cell: its text goes into that cell
            outer = self.tables[-1]
            if outer.get("cell") is not None:
                outer["cell"]["text"].append(" " + table_text(rows))
            return
        self.blocks.append(block("table", table_text(rows), rows=rows, header_rows=table["head"], caption=caption))

    def close(self):
        super().close()
        while self.tables:
            self._end_table()
        self.flush()


def read_html_text(html: str, name: str, kind: str = "html") -> ParsedDocument:
    """A page's text (already decoded) as a ParsedDocument."""
    reader = _PageReader()
    reader.feed(html)
    reader.close()
    notes = []
    if reader.scripts or reader.dropped_attributes:
        notes.append(
            f"{reader.scripts} script(s) and {reader.dropped_attributes} event handler(s) or javascript: link(s)"
            " removed, never run"
        )
    title = " ".join(reader.title.split())
    return ParsedDocument(name, flow_pages(reader.blocks, title), kind, metadata={"title": title} if title else {}, notes=notes)


def read_html(path: Path, name: str) -> ParsedDocument:
    return read_html_text(decode(path.read_bytes(), html=True), name)
