"""OCR seam: `read(image) -> words with boxes`, via rapidocr (PP-OCR models inside its wheel)."""

import logging
import threading
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from ingest.page import Word
from rag.core.errors import BadInput

log = logging.getLogger(__name__)


@contextmanager
def _cls_off(engine):
    """rapidocr keeps use_cls passed to a call as engine state: put it back afterwards."""
    saved = engine.use_cls
    try:
        yield
    finally:
        engine.use_cls = saved


class OcrReader(Protocol):
    """OCR seam: a page image -> words with their boxes (page image pixels), in no particular order."""

    name: str

    def warm_up(self) -> object: ...

    def read(self, image) -> list[Word]: ...


class RapidOcrReader:
    """Text lines with their boxes, in the image's pixel coordinates. Loads on first use."""

    name = "rapidocr"

    def __init__(self, min_score: float = 0.5, threads: int = 0):
        self.min_score = min_score
        self.threads = threads  # ONNX Runtime threads of each model; 0 = its default (every core)
        self._engine = None
        self._lock = threading.Lock()

    def warm_up(self):
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR

                params = {"Global.log_level": "error"}
                if self.threads > 0:
                    params.update(
                        {
                            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                        }
                    )
                self._engine = RapidOCR(params=params)
            return self._engine

    def upright(self, image):
        """The page turned upright (90/180/270 and small skews undone) and what was done: {rotation, skew}."""
        from ingest.ocr.orientation import upright

        return upright(image, self.warm_up())

    def read(self, image) -> list[Word]:
        """OCR a PIL image or an RGB array (already upright); one Word per recognised text line.

        The per-line direction classifier is off: pages are turned upright first (`upright`), and the classifier
        flips long lines (a full-width line of small text at 150-200 dpi) by 180 degrees, which reads as garbage.
        """
        engine = self.warm_up()
        arr = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
        with _cls_off(engine):
            result = engine(arr, use_cls=False)
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            return []
        words = []
        for box, text, score in zip(boxes, result.txts, result.scores):
            if score < self.min_score or not text.strip():
                continue
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            top, bottom = float(min(ys)), float(max(ys))
            words.append(
                Word(text=text.strip(), x0=float(min(xs)), top=top, x1=float(max(xs)), bottom=bottom, size=(bottom - top) * 0.8)
            )
        return words


def make_ocr(engine: str = "rapidocr", lang: str = "eng", threads: int = 0):
    """The OCR reader named by `RAG_PARSE__OCR_ENGINE`; tesseract fails here, naming what to install, if absent.
    `threads`: rapidocr's ONNX Runtime threads (tesseract's come from OMP_THREAD_LIMIT, see `rag.core.threads`)."""
    if engine == "tesseract":
        from ingest.ocr.tesseract import TesseractReader

        reader = TesseractReader(lang=lang)
        reader.warm_up()
        return reader
    if engine != "rapidocr":
        raise BadInput(f"unknown OCR engine {engine!r} (rapidocr or tesseract)")
    return RapidOcrReader(threads=threads)
