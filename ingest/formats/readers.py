"""The reader of each kind `ingest.parse.sniff` finds, and `read_document`, the one entry to them (PDFs and page
images are read by `ingest.parse.pdf`, not here)."""

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ingest.formats.docx import read_docx
from ingest.formats.eml import read_eml
from ingest.formats.images import fill_images
from ingest.formats.libreoffice import TARGETS, convert
from ingest.formats.markdown import read_markdown
from ingest.formats.pptx import read_pptx
from ingest.formats.protocol import Reader
from ingest.formats.text import read_delimited, read_text
from ingest.formats.web import read_html
from ingest.formats.xlsx import read_xlsx
from ingest.page import ParsedDocument

READERS: dict[str, Reader] = {
    "docx": read_docx,
    "pptx": read_pptx,
    "xlsx": read_xlsx,
    "html": read_html,
    "markdown": read_markdown,
    "text": read_text,
    "csv": partial(read_delimited, kind="csv"),
    "tsv": partial(read_delimited, kind="tsv"),
    "eml": read_eml,
}
FORMATS = set(READERS) | set(TARGETS)  # every kind read here


def read_document(
    path: Path, kind: str, name: str | None = None, read_image: Callable[[bytes], str] | None = None
) -> ParsedDocument:
    """The layout of a file of `kind` (see `FORMATS`); legacy and OpenDocument kinds through LibreOffice. Pictures
    inside it are read by `read_image` (bytes -> text; the pipeline's OCR), else by their alt text alone."""
    name = name or path.name
    if kind in TARGETS:
        with tempfile.TemporaryDirectory(prefix="rag-convert-") as tmp:
            converted = convert(path, kind, Path(tmp))
            doc = READERS[TARGETS[kind]](converted, name)
        doc.kind = kind
    else:
        doc = READERS[kind](path, name)
    fill_images(doc, read_image)
    return doc
