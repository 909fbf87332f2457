"""PDFs into pages of blocks: the text layer where there is one, rendering + OCR where there is not."""

import logging
from pathlib import Path

from ingest.layout import body_font_size, build_blocks, classify, reading_order
from ingest.model import Block, Page, ParsedDocument, Word
from ingest.tables import extract_tables
from rag.errors import CorruptFile, EmptyFile, EncryptedFile

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 8  # fewer characters in the text layer than this: treat the page as a scan
RENDER_DPI = 200


def check_pdf(path: Path) -> int:
    """Open with pypdf to tell corrupt and encrypted files apart; returns the page count."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedFile(f"encrypted PDF (password required): {path.name}")
        pages = len(reader.pages)
    except EncryptedFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise CorruptFile(f"corrupt or unreadable PDF: {path.name} ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken files
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise EncryptedFile(f"encrypted PDF (password required): {path.name}") from exc
        raise CorruptFile(f"corrupt or unreadable PDF: {path.name} ({type(exc).__name__}: {exc})") from exc
    if pages == 0:
        raise EmptyFile(f"PDF has no pages: {path.name}")
    return pages


def _text_words(page) -> list[Word]:
    raw = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False, use_text_flow=False)
    return [Word(text=w["text"], x0=w["x0"], top=w["top"], x1=w["x1"], bottom=w["bottom"],
                 size=float(w.get("size") or 0), bold="bold" in str(w.get("fontname", "")).lower())
            for w in raw]


def _ocr_words(path: Path, index: int, ocr) -> list[Word]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        scale = RENDER_DPI / 72
        image = pdf[index].render(scale=scale).to_pil()
    finally:
        pdf.close()
    return [Word(text=w.text, x0=w.x0 / scale, top=w.top / scale, x1=w.x1 / scale, bottom=w.bottom / scale,
                 size=w.size / scale) for w in ocr.read(image)]


def _inside(word: Word, box: tuple) -> bool:
    cx, cy = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def layout_page(number: int, width: float, height: float, words: list[Word], tables: list[Block],
                body_size: float, source: str) -> Page:
    """Blocks of one page in reading order, classified (shared by PDFs and images)."""
    words = [w for w in words if not any(_inside(w, t.bbox) for t in tables)]
    blocks = reading_order(build_blocks(words) + tables)
    classify(blocks, height, body_size, first_page=number == 1)
    return Page(number=number, width=round(width, 1), height=round(height, 1), blocks=blocks, source=source)


def parse_pdf(path: Path, ocr=None) -> ParsedDocument:
    """Parse a PDF page by page. Raises CorruptFile, EncryptedFile or EmptyFile with a one-line reason."""
    import pdfplumber

    path = Path(path)
    check_pdf(path)
    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:  # noqa: BLE001
        raise CorruptFile(f"corrupt or unreadable PDF: {path.name} ({exc})") from exc
    with pdf:
        raw = []
        for i, page in enumerate(pdf.pages):
            try:
                words = _text_words(page)
                source = "text"
                if sum(len(w.text) for w in words) < MIN_TEXT_CHARS and ocr is not None:
                    words, source = _ocr_words(path, i, ocr), "ocr"
                tables = extract_tables(page) if source == "text" else []
            except Exception as exc:  # noqa: BLE001 - one broken page must not sink the document
                raise CorruptFile(f"page {i + 1} of {path.name} could not be read ({type(exc).__name__}: {exc})") from exc
            raw.append((i + 1, float(page.width), float(page.height), words, tables, source))
    body = body_font_size([w for r in raw for w in r[3]])
    pages = [layout_page(n, w, h, words, tables, body, src) for n, w, h, words, tables, src in raw]
    return ParsedDocument(name=path.name, pages=pages, kind="pdf")


def parse_image(path: Path, ocr) -> ParsedDocument:
    """Parse a page image (PNG, JPEG, TIFF; first frame) with OCR; coordinates in pixels."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            image = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CorruptFile(f"corrupt or unreadable image: {path.name} ({exc})") from exc
    words = ocr.read(image)
    body = body_font_size(words)
    page = layout_page(1, image.width, image.height, words, [], body, "ocr")
    return ParsedDocument(name=path.name, pages=[page], kind="image")
