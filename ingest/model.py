"""What a parsed page is made of: words from a text layer or OCR, then blocks in reading order."""

from dataclasses import dataclass, field


@dataclass
class Word:
    """A run of text with its box (page units, origin top-left) and font size."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float = 0.0
    bold: bool = False


@dataclass
class Block:
    """A layout region. kind: title | heading | paragraph | table | header | footer."""

    kind: str
    bbox: tuple[float, float, float, float]
    text: str = ""
    level: int = 0
    size: float = 0.0
    rows: list[list[dict]] = field(default_factory=list)  # tables: cells {text, colspan, rowspan}


@dataclass
class Page:
    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    source: str = "text"  # text | ocr


@dataclass
class ParsedDocument:
    name: str
    pages: list[Page]
    kind: str  # pdf | image
