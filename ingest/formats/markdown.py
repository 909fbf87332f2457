"""Markdown rendered to HTML by markdown-it-py (CommonMark with GitHub tables; raw HTML in the source is kept as
text, never as markup) and read as an HTML page (`ingest.formats.web`)."""

from pathlib import Path

from markdown_it import MarkdownIt

from ingest.formats.text import decode
from ingest.formats.web import read_html_text
from ingest.page import ParsedDocument


def read_markdown(path: Path, name: str) -> ParsedDocument:
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(decode(path.read_bytes()))
    return read_html_text(html, name, kind="markdown")
