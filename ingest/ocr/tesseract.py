"""OCR seam, second engine: the `tesseract` command (Tesseract 4/5, LSTM), when it is installed.

Same protocol as `RapidOcrReader`: `read(image) -> words with boxes` in the image's pixel coordinates, and
`upright(image) -> (image, {"rotation", "skew"})`. Tesseract is called as a program (TSV output), so no Python
package is needed; the page orientation comes from its OSD (`--psm 0`, needs the `osd` language data) and the
small skew from a projection profile of the page. Chosen with `RAG_PARSE__OCR_ENGINE=tesseract`.
"""

import csv
import io
import re
import shutil
import subprocess

import numpy as np

from ingest.page import Word
from rag.core.errors import MissingExtra, RagError

INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install tesseract-ocr) or set RAG_PARSE__OCR_ENGINE=rapidocr"
MAX_SKEW = 10.0
MIN_SKEW = 0.3


def projection_skew(gray: np.ndarray, max_skew: float = MAX_SKEW, step: float = 0.2) -> float:
    """Skew of the text lines in degrees (positive = counter-clockwise), from dark-pixel row profiles.

    The dark pixels of a copy about 800 px wide are projected on rows at each candidate angle; text lines
    are sharpest (the row histogram's energy is highest) at the page's skew.
    """
    factor = max(1, gray.shape[1] // 800)
    small = gray[::factor, ::factor]
    ys, xs = np.nonzero(small < 128)
    if len(xs) < 100:
        return 0.0
    if len(xs) > 60000:
        keep = np.random.default_rng(0).choice(len(xs), 60000, replace=False)
        ys, xs = ys[keep], xs[keep]
    xs = xs - xs.mean()
    best, best_score = 0.0, -1.0
    for angle in np.arange(-max_skew, max_skew + step / 2, step):
        rows = np.round(ys + xs * np.tan(np.radians(angle))).astype(np.int64)  # a CCW line rises to the right
        counts = np.bincount(rows - rows.min())
        score = float((counts.astype(np.float64) ** 2).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return round(best, 2)


class TesseractReader:
    """Words with their boxes from the `tesseract` program. Checks it is installed on first use."""

    name = "tesseract"

    def __init__(self, lang: str = "eng", min_conf: float = 30.0, binary: str = "tesseract", timeout: float = 300):
        self.lang = lang
        self.min_conf = min_conf
        self.binary = binary
        self.timeout = timeout
        self._path: str | None = None

    def warm_up(self) -> str:
        """The path of the tesseract program; raises MissingExtra naming what to install."""
        if self._path is None:
            path = shutil.which(self.binary)
            if path is None:
                raise MissingExtra(
                    f"OCR engine 'tesseract' selected but the `{self.binary}` program was not found: {INSTALL_HINT}"
                )
            self._path = path
        return self._path

    def _run(self, image, *args: str) -> str:
        buf = io.BytesIO()
        image.save(buf, "PNG")
        proc = subprocess.run(
            [self.warm_up(), "stdin", "stdout", *args], input=buf.getvalue(), capture_output=True, timeout=self.timeout
        )
        if proc.returncode != 0:
            raise RagError(f"tesseract failed ({proc.returncode}): {proc.stderr.decode(errors='replace').strip()[-300:]}")
        return proc.stdout.decode("utf-8", errors="replace")

    def orientation(self, image) -> int:
        """Clockwise degrees (0/90/180/270) the page was turned by, from tesseract's OSD; 0 when it cannot tell."""
        try:
            out = self._run(image.convert("L"), "--psm", "0")
        except RagError:
            return 0  # too little text for OSD: leave the page as it is
        found = re.search(r"Orientation in degrees:\s*(\d+)", out)
        return int(found.group(1)) % 360 if found else 0

    def upright(self, image):
        """The page turned upright (OSD) and deskewed (projection profile), and what was done: {rotation, skew}."""
        from PIL import Image

        rotation = self.orientation(image)
        if rotation in (90, 180, 270):
            image = image.transpose(
                {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}[rotation]
            )
        skew = projection_skew(np.asarray(image.convert("L")))
        applied = 0.0
        if MIN_SKEW < abs(skew) < MAX_SKEW:
            image = image.convert("RGB").rotate(-skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")
            applied = skew
        return image, {"rotation": rotation, "skew": applied}

    def read(self, image) -> list[Word]:
        """OCR a PIL image: one Word per recognised word, its top and bottom those of its text line."""
        if not hasattr(image, "save"):
            from PIL import Image

            image = Image.fromarray(np.asarray(image))
        return words_from_tsv(self._run(image.convert("L"), "-l", self.lang, "--psm", "3", "tsv"), self.min_conf)


def words_from_tsv(tsv: str, min_conf: float = 30.0) -> list[Word]:
    """Words of tesseract's TSV output; each takes its line's top and bottom, and size 0.8 x the line height."""
    lines: dict[tuple, tuple[float, float]] = {}
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        try:
            level, left, top = int(row["level"]), float(row["left"]), float(row["top"])
            width, height, conf = float(row["width"]), float(row["height"]), float(row["conf"])
        except (KeyError, TypeError, ValueError):
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        if level == 4:
            lines[key] = (top, top + height)
        elif level == 5 and (row.get("text") or "").strip() and conf >= min_conf:
            line_top, line_bottom = lines.get(key, (top, top + height))
            words.append(
                Word(
                    text=row["text"].strip(),
                    x0=left,
                    top=line_top,
                    x1=left + width,
                    bottom=line_bottom,
                    size=0.8 * (line_bottom - line_top),
                )
            )
    return words
