"""PDFs and page images into pages of blocks in reading order.

Born-digital pages use their text layer through pdfium (no OCR); pages without one are rendered and
read with OCR after being turned upright. Pages stream one at a time (memory stays flat on long
documents), a page that fails carries its error while the rest of the document is read, and page
ranges can be spread over worker processes.
"""

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, wait
from pathlib import Path

from ingest.page import Block, Page, ParsedDocument, Word, center_in
from ingest.parse.digital_tables import LAYOUT_SCALE, combine_tables, overlap, snap, structure_table, table_regions
from ingest.parse.layout import body_font_size, find_gutters
from ingest.parse.limits import ParseLimits, Stop
from ingest.parse.regions import blocks_from_regions
from ingest.parse.sidebar import order_with_sidebars
from ingest.parse.structure import apply_document_structure
from ingest.parse.tables import ruled_tables
from ingest.parse.timing import add, stage, take
from ingest.parse.unruled import find_unruled_tables
from rag.core.errors import Cancelled, CorruptFile, EmptyFile, EncryptedFile, ParseLimit
from rag.core.orphans import process_pool
from rag.core.settings import Settings

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 8  # fewer characters in the text layer than this: treat the page as a scan
RENDER_DPI = 200
BLANK_TEST_DPI = 24  # a page without text is rendered this small first: blank at this size, it is not read by OCR
BLANK_CONTRAST = 24  # ... blank: its lightest and darkest pixels differ by at most this (of 255)
MIN_PAGES_PER_WORKER = 50  # below this, starting processes costs more than it saves


def check_pdf(path: Path) -> int:
    """Open with pypdf to tell corrupt and encrypted files apart; returns the page count.

    Files encrypted with an empty user password (RC4 or AES) open; others need a password and are refused.
    """
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


def layout_page(
    number: int,
    width: float,
    height: float,
    words: list[Word],
    tables: list[Block],
    figures: Sequence[Block] = (),
    source: str = "text",
    hints: Sequence[tuple[str, tuple]] = (),
    boxes: Sequence[tuple] = (),
    aligned: bool = True,
) -> Page:
    """Blocks of one page in reading order (document-level classification comes later, in `finish`).

    `hints` are (kind, box) regions a layout model found on a scan (title, header, footer, equation; see
    `ingest.parse.regions`); born-digital formulas are found from the text alone.
    `boxes` are rectangles drawn on the page: those holding text beside the main text are sidebars.
    `aligned`: also look for tables in aligned text (off when the layout model has already said where tables are).
    """
    words = [w for w in words if not any(center_in(w.bbox, t.bbox) for t in tables)]
    gutters = find_gutters(words)
    unruled = find_unruled_tables(words, gutters) if aligned else []
    if unruled:
        tables = list(tables) + unruled
        words = [w for w in words if not any(center_in(w.bbox, t.bbox) for t in unruled)]
        gutters = find_gutters(words)
    blocks = blocks_from_regions(words, gutters, list(hints), height)
    blocks = order_with_sidebars(blocks + list(tables) + list(figures), list(boxes), gutters, height)
    return Page(number=number, width=round(width, 1), height=round(height, 1), blocks=blocks, source=source)


def _sizes(words: list[Word]) -> dict[float, int]:
    hist: dict[float, int] = {}
    for w in words:
        size = round(w.size or (w.bottom - w.top), 1)
        hist[size] = hist.get(size, 0) + len(w.text)
    return hist


def _scaled(block: Block, scale: float) -> Block:
    x0, y0, x1, y1 = block.bbox
    block.bbox = (round(x0 / scale, 1), round(y0 / scale, 1), round(x1 / scale, 1), round(y1 / scale, 1))
    return block


def blank_page(page, limits: ParseLimits) -> bool:
    """Whether a PDF page shows nothing: it draws no object, or renders (small) to one uniform colour."""
    if next(iter(page.get_objects(max_depth=1)), None) is None:
        return True
    width, height = page.get_size()
    image = page.render(scale=limits.render_scale(width, height, BLANK_TEST_DPI / 72), grayscale=True).to_pil()
    darkest, lightest = image.convert("L").getextrema()
    return lightest - darkest <= BLANK_CONTRAST


def _lowered(scale: float, wanted: float, width: float, height: float) -> str:
    """The page's warning when its image was rendered below the resolution wanted (RAG_PARSE__MAX_RENDER_PIXELS)."""
    if scale >= wanted:
        return ""
    return (
        f"page of {width:.0f}x{height:.0f} pt rendered at {scale * 72:.0f} dpi instead of {wanted * 72:.0f} "
        "(larger than RAG_PARSE__MAX_RENDER_PIXELS)"
    )


class _Range:
    """Parses pages [start, end) of one PDF; one instance per worker process (models loaded once)."""

    def __init__(self, path: Path, ocr, table_model: bool = True, limits: ParseLimits = ParseLimits()):
        import pypdfium2 as pdfium

        self.path = path
        self.pdf = pdfium.PdfDocument(str(path))
        self.ocr = ocr
        self.table_model = table_model and ocr is not None and getattr(ocr, "use_layout", False)
        self.limits = limits

    def close(self):
        self.pdf.close()

    @staticmethod
    def _table_like(layer) -> bool:
        """Whether a born-digital page shows structure a table may have: ruling lines, or rows of aligned text."""
        if layer.rulings >= 4:
            return True
        words = [w for w in layer.words if w.text.strip()]
        return bool(words) and bool(find_unruled_tables(words, find_gutters(words)))

    def _model_tables(self, page, layer, ruled: list[Block]) -> list[Block]:
        """The page's tables with the layout model's regions and the structure model (`ingest.parse.digital_tables`)."""
        scale = self.limits.render_scale(layer.width, layer.height, LAYOUT_SCALE)
        with stage("render"):
            image = page.render(scale=scale).to_pil()
        with stage("layout model"):
            found = self.ocr.regions(image)
        regions = []
        for box in table_regions(found):
            snapped = snap(tuple(v / scale for v in box), layer.words)
            if snapped is not None:
                regions.append(snapped)

        def rebuild(box):
            try:
                with stage("table structure model"):
                    return structure_table(self.ocr, image, box, layer.words, scale)
            except Exception as exc:  # noqa: BLE001 - a region the model cannot rebuild stays text
                log.warning("table region could not be rebuilt: %s", exc)
                return None

        return combine_tables(regions, ruled, rebuild)

    def page(self, index: int) -> tuple[Page, dict]:
        from ingest.parse.textlayer import read_layer

        page = self.pdf[index]
        try:
            with stage("text layer"):
                layer = read_layer(page)
            text_chars = sum(len(w.text) for w in layer.words)
            if text_chars < MIN_TEXT_CHARS and self.ocr is not None:
                with stage("blank-page test"):
                    blank = blank_page(page, self.limits)
                if blank:
                    return Page(number=index + 1, width=round(layer.width, 1), height=round(layer.height, 1)), {}
                scale = self.limits.render_scale(layer.width, layer.height, RENDER_DPI / 72)
                with stage("render"):
                    image = page.render(scale=scale).to_pil()
                scan = self.ocr.read(image)
                words = [
                    Word(w.text, w.x0 / scale, w.top / scale, w.x1 / scale, w.bottom / scale, w.size / scale) for w in scan.words
                ]
                with stage("blocks and reading order"):
                    result = layout_page(
                        index + 1,
                        scan.image.width / scale,
                        scan.image.height / scale,
                        words,
                        [_scaled(t, scale) for t in scan.tables],
                        [_scaled(f, scale) for f in scan.figures],
                        "ocr",
                        [(kind, tuple(v / scale for v in box)) for kind, box in scan.hints],
                        [tuple(v / scale for v in box) for box in scan.boxes],
                    )
                result.rotation = scan.rotation
                result.warning = _lowered(scale, RENDER_DPI / 72, layer.width, layer.height)
                return result, _sizes(words)
            with stage("ruled tables"):
                found = ruled_tables(layer.segments, layer.words)
            tables = [b for b in found if b.kind == "table"]
            area = layer.width * layer.height
            figures = [b for b in found if b.kind == "figure"]
            figures += [
                Block(kind="figure", bbox=box) for box in layer.images if (box[2] - box[0]) * (box[3] - box[1]) < 0.8 * area
            ]
            with stage("table-like test"):
                modelled = self.table_model and self._table_like(layer)
            if modelled:
                tables = self._model_tables(page, layer, tables)
                figures = [f for f in figures if not any(overlap(f.bbox, t.bbox) > 0.5 for t in tables)]
            with stage("blocks and reading order"):
                page_out = layout_page(
                    index + 1,
                    layer.width,
                    layer.height,
                    layer.words,
                    tables,
                    figures,
                    boxes=layer.boxes,
                    aligned=not modelled,
                )
            return page_out, _sizes(layer.words)
        finally:
            page.close()


_stop_event = None  # in a page-range worker process: set by the parent when the parse is to stop


def _start_range_worker(stop_event) -> None:
    global _stop_event
    _stop_event = stop_event


def _parse_range(
    path: str,
    start: int,
    end: int,
    engine: str,
    ocr=None,
    lang: str = "eng",
    settings: Settings | None = None,
    table_model: bool = True,
    limits: ParseLimits = ParseLimits(),
    stop: Stop | None = None,
) -> tuple[list[Page], dict, dict]:
    """Pages [start, end) with per-page errors; the font-size histogram of the range; seconds per stage.

    `engine` names the OCR engine a worker process builds its own reader with ("": no OCR), with the caller's
    `settings` (its models dir and hash cache, not this process's environment). Between pages, `stop` (in a worker
    process: the parent's stop event) and the time budget of `limits` are checked.
    """
    if stop is None and _stop_event is not None:
        stop = _stop_event.is_set
    if engine and ocr is None:
        ocr = worker_scan_reader(engine, lang, settings)
    reader = _Range(Path(path), ocr, table_model, limits)
    pages: list[Page] = []
    hist: dict[float, int] = {}
    try:
        for i in range(start, end):
            limits.check_time(Path(path).name, i + 1, stop)
            try:
                page, sizes = reader.page(i)
            except Exception as exc:  # noqa: BLE001 - one broken page must not sink the document
                log.warning("page %d of %s could not be read: %s", i + 1, path, exc)
                page, sizes = Page(number=i + 1, width=0, height=0, error=f"{type(exc).__name__}: {exc}"), {}
            pages.append(page)
            for k, v in sizes.items():
                hist[k] = hist.get(k, 0) + v
    finally:
        reader.close()
    return pages, hist, take()


def _outline(path: Path) -> list[tuple[int, str]]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
        try:
            return [(item.level, item.title) for item in pdf.get_toc(max_depth=8)]
        finally:
            pdf.close()
    except Exception:  # noqa: BLE001 - an unreadable outline is not worth failing for
        return []


def worker_scan_reader(engine: str, lang: str, settings: Settings | None):
    """The OCR reader a page-range worker process builds: `engine` with the caller's settings (None: the models are
    not verified again, the caller did)."""
    from ingest.ocr.engines import make_ocr
    from ingest.parse.scan import ScanReader
    from rag.models.registry import ModelRegistry

    return ScanReader(make_ocr(engine, lang), registry=ModelRegistry(settings) if settings is not None else None)


def parse_pdf(
    path: Path,
    ocr=None,
    workers: int = 1,
    table_model: bool = True,
    limits: ParseLimits = ParseLimits(),
    stop: Stop | None = None,
) -> ParsedDocument:
    """Parse a PDF page by page (in `workers` processes for long files); `ocr` is a ScanReader (None: no OCR).
    `table_model`: born-digital pages with table-like structure go through the layout and structure models too.

    Raises CorruptFile, EncryptedFile or EmptyFile with a one-line reason when the whole file is unreadable;
    a page that fails is kept with its `error` and the others are read. Over a limit of `limits` (pages, time):
    ParseLimit; `stop()` true between pages: Cancelled.
    """
    path = Path(path)
    n = check_pdf(path)
    limits.check_pages(n, path.name)
    limits = limits.started()
    workers = max(1, min(workers, os.cpu_count() or 1, n // MIN_PAGES_PER_WORKER or 1))
    engine = getattr(getattr(ocr, "ocr", None), "name", "rapidocr") if ocr is not None else ""
    lang = getattr(getattr(ocr, "ocr", None), "lang", "eng")
    registry = getattr(ocr, "registry", None)
    settings = registry.settings if registry is not None else None
    try:
        if workers == 1:
            take()  # what this process timed before belongs to no document
            pages, hist, stages = _parse_range(str(path), 0, n, engine, ocr, lang, None, table_model, limits, stop)
        else:
            bounds = [(n * k // workers, n * (k + 1) // workers) for k in range(workers)]
            args = (engine, None, lang, settings, table_model, limits)
            parts = _in_processes(workers, [(str(path), a, b, *args) for a, b in bounds], stop)
            pages = [p for part, _, _ in parts for p in part]
            hist, stages = {}, {}
            for _, h, timed in parts:
                for k, v in h.items():
                    hist[k] = hist.get(k, 0) + v
                add(stages, timed)
    except RuntimeError as exc:
        raise CorruptFile(f"corrupt or unreadable PDF: {path.name} ({exc})") from exc
    if all(p.error for p in pages):
        raise CorruptFile(f"no page of {path.name} could be read ({pages[0].error})")
    body = max(hist, key=hist.__getitem__) if hist else 0.0
    with stage("document structure"):
        apply_document_structure(pages, body, _outline(path))
    return ParsedDocument(name=path.name, pages=pages, kind="pdf", stages=add(stages, take()))


def _in_processes(workers: int, ranges: list[tuple], stop: Stop | None) -> list:
    """`_parse_range` over each of `ranges` in its own process; each process exits with this one, and stops
    between pages once `stop()` is true here (checked twice a second)."""
    stop_event = multiprocessing.get_context("spawn").Event()
    if stop is not None and stop():
        stop_event.set()
    with process_pool(workers, _start_range_worker, (stop_event,)) as pool:
        futures = [pool.submit(_parse_range, *r) for r in ranges]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done) or (stop is not None and stop()):
                stop_event.set()  # the other ranges stop at their next page
    failed: list[BaseException] = [e for e in (f.exception() for f in futures) if e is not None]
    if failed:  # the reason, not the Cancelled of the ranges stopped because of it
        raise next((e for e in failed if not isinstance(e, Cancelled)), failed[0])
    return [f.result() for f in futures]


def parse_image(path: Path, ocr, limits: ParseLimits = ParseLimits()) -> ParsedDocument:
    """Parse a page image (PNG, JPEG, TIFF; first frame) with OCR after turning it upright; pixel coordinates.
    An image of more pixels than `limits` allow is refused from its header, before it is decoded."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            limits.check_image(img.width, img.height, path.name)
            img.load()
            image = img.convert("RGB")
    except Image.DecompressionBombError as exc:  # larger than Pillow's own limit: refused in `open` already
        raise ParseLimit(f"{path.name} is too large an image to read ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CorruptFile(f"corrupt or unreadable image: {path.name} ({exc})") from exc
    return parse_picture(image, ocr, path.name)


def parse_picture(image, ocr, name: str) -> ParsedDocument:
    """An RGB image already open (a page image, or a picture inside an office document) read as one page."""
    take()  # what this process timed before belongs to no document
    scan = ocr.read(image)
    with stage("blocks and reading order"):
        page = layout_page(
            1, scan.image.width, scan.image.height, scan.words, scan.tables, scan.figures, "ocr", scan.hints, scan.boxes
        )
    page.rotation = scan.rotation
    with stage("document structure"):
        apply_document_structure([page], body_font_size(scan.words))
    return ParsedDocument(name=name, pages=[page], kind="image", stages=take())
