"""The format seam: a reader turns one file of its kind into a `ParsedDocument` (the layout every format shares),
raising a `RagError` subclass with a one-line reason when it cannot."""

from pathlib import Path
from typing import Protocol

from ingest.page import ParsedDocument


class Reader(Protocol):
    def __call__(self, path: Path, name: str) -> ParsedDocument: ...
