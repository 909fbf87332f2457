"""What a parsed page is made of: words from a text layer or OCR, then blocks in reading order."""

from dataclasses import dataclass, field


def words_box(words) -> tuple[float, float, float, float]:
    """The box (x0, top, x1, bottom) around `words`."""
    return (min(w.x0 for w in words), min(w.top for w in words), max(w.x1 for w in words), max(w.bottom for w in words))


def center_in(box: tuple, region: tuple) -> bool:
    """Whether the centre of `box` (x0, top, x1, bottom) lies inside `region`."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


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

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (self.x0, self.top, self.x1, self.bottom)


@dataclass
class Block:
    """A layout region.

    kind: title | heading | paragraph | list_item | table | figure | caption | footnote | formula | header | footer.
    Figures hold the text found inside them in `text` and their caption in `caption`; a formula's equation
    number ("1", "2.3") is in `marker` (its text ends with it in brackets).
    """

    kind: str
    bbox: tuple[float, float, float, float]
    text: str = ""
    level: int = 0
    size: float = 0.0
    rows: list[list[dict]] = field(default_factory=list)  # tables: cells {text, colspan, rowspan}
    caption: str = ""
    ordered: bool = False  # list items: numbered (ol) or bulleted (ul)
    marker: str = ""  # list items: the bullet or number that opened them ("•", "2."); formulas: their number
    continued: bool = False  # a table that continues one from the previous page
    header_rows: int = 1  # tables: how many leading rows form the <thead>
    aside: tuple | None = None  # the box of the sidebar panel this block belongs to (read after the main text)


@dataclass
class Page:
    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    source: str = "text"  # text | ocr
    error: str = ""  # why this page could not be read (the rest of the document still is)
    rotation: int = 0  # degrees a scan was turned to read it upright
    label: str = ""  # what a citation calls this unit when it is no printed page: "Slide 3", "Sheet Budget", a heading
    warning: str = ""  # what was read with less care than usual (a page too large, rendered smaller)


@dataclass
class ParsedDocument:
    name: str
    pages: list[Page]
    kind: str  # pdf | image | text | one of the office and web formats (ingest/formats)
    stages: dict[str, tuple[float, int]] = field(default_factory=dict)  # seconds and calls per parsing stage
    metadata: dict[str, str] = field(default_factory=dict)  # the file's own metadata (title, author, e-mail headers)
    notes: list[str] = field(default_factory=list)  # what the report should say although it read well ("macros not run")
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # files inside it read as documents of their own
    images: dict[str, bytes] = field(default_factory=dict)  # pictures inside it, by the "image:N" marker of their figure

    @property
    def errors(self) -> list[str]:
        """Each page's error or warning, as the file's report lists them."""
        return [f"page {p.number}: {p.error or p.warning}" for p in self.pages if p.error or p.warning]
