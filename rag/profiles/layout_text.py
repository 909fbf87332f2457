"""The text of a layout HTML document (the contract of docs/layout-html.md) as pages of typed lines."""

import html as htmllib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

KINDS = {"h1": "title", "h2": "heading", "h3": "heading", "h4": "heading", "header": "header", "footer": "footer"}
BLOCKS = {"p", "li", "td", "th", "caption", "figcaption", "h1", "h2", "h3", "h4"}


@dataclass
class Line:
    kind: str  # title | heading | header | footer | text
    text: str
    level: int = 0  # headings: 1 for h1 ... 4 for h4


@dataclass
class LayoutPage:
    number: int
    lines: list[Line] = field(default_factory=list)

    def text(self, kinds: tuple[str, ...] = ("title", "heading", "text")) -> str:
        return "\n".join(line.text for line in self.lines if line.kind in kinds)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pages: list[LayoutPage] = []
        self.stack: list[str] = []
        self.buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            number = dict(attrs).get("data-page") or str(len(self.pages) + 1)
            self.pages.append(LayoutPage(int(number) if number.isdigit() else len(self.pages) + 1))
        elif tag in BLOCKS or tag in KINDS:
            self._flush()
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and tag == self.stack[-1]:
            self._flush()
            self.stack.pop()

    def handle_data(self, data):
        if self.stack:
            self.buffer.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        if not text or not self.stack or not self.pages:
            return
        inside = next((t for t in reversed(self.stack) if t in KINDS), None)
        kind = KINDS.get(inside, "text") if inside else "text"
        level = int(inside[1]) if inside and re.fullmatch(r"h[1-4]", inside) else 0
        self.pages[-1].lines.append(Line(kind, htmllib.unescape(text), level))


def read_layout(html: str) -> list[LayoutPage]:
    """Pages of the layout HTML in reading order, each a list of typed lines."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.pages
