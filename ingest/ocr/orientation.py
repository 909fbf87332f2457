"""Page orientation (0/90/180/270) and small skew for scanned pages, using rapidocr's own models.

rapidocr reads upright text well but not pages turned by 90/180/270 degrees, and tesseract's OSD is
not available here. This module finds the orientation from the detector's text boxes (tall boxes:
the page lies on its side) and settles the two remaining candidates by recognising a few line crops
both ways and keeping the reading the recogniser is more confident about. The skew comes from the
angles of the same boxes.

Conventions:
- rotation: the clockwise angle (0, 90, 180, 270) by which the page was turned, i.e. the
  counter-clockwise angle that makes it upright again (`Image.transpose(ROTATE_<rotation>)`).
  A page made with `upright_page.rotate(-r, expand=True)` has rotation `r`.
- skew: degrees, positive = the text is turned counter-clockwise (as `Image.rotate(+skew)` would do);
  it is measured modulo 90 degrees, so it does not depend on the orientation.

`engine` is always a caller-owned `rapidocr.RapidOCR`; its use_det/use_cls/use_rec flags (which rapidocr
keeps as state when they are passed to a call) are restored after every call made here.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
from PIL import Image

WORK_SIDE = 1024  # long side of the downscaled copy used for detection
SAMPLE_LINES = 8  # line crops recognised per candidate orientation
MIN_ASPECT = 2.0  # boxes less elongated than this say nothing about direction or angle
MIN_LONG_PX = 24  # ... nor do boxes shorter than this (in the downscaled copy)
MIN_SKEW = 0.3  # below this a page is left as it is
CONFIDENT = 0.9  # mean recognition score of the sampled lines read upright above which 180 degrees is not tried

_TRANSPOSE = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


@contextmanager
def _engine_flags(engine):
    """rapidocr stores use_det/use_cls/use_rec passed to a call on the engine: put them back afterwards."""
    saved = (engine.use_det, engine.use_cls, engine.use_rec)
    try:
        yield
    finally:
        engine.use_det, engine.use_cls, engine.use_rec = saved


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _detect(image: Image.Image, engine) -> tuple[np.ndarray, float]:
    """Text boxes (n, 4, 2) of a downscaled copy, and the factor from that copy to `image`."""
    scale = min(1.0, WORK_SIDE / max(image.size))
    small = image
    if scale < 1.0:
        small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR)
    with _engine_flags(engine):
        result = engine(_rgb(small), use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(result, "boxes", None)
    if boxes is None or len(boxes) == 0:
        return np.zeros((0, 4, 2), np.float32), 1.0 / scale
    return np.asarray(boxes, np.float32).reshape(-1, 4, 2), 1.0 / scale


def _geometry(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per box: long side, short side, and the long edge's direction in degrees (counter-clockwise, y up)."""
    p0, p1, p2, p3 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    across = (p1 - p0) + (p2 - p3)  # along the top and bottom edges
    down = (p3 - p0) + (p2 - p1)  # along the left and right edges
    la, ld = np.linalg.norm(across, axis=1) / 2, np.linalg.norm(down, axis=1) / 2
    along = np.where((la >= ld)[:, None], across, down)
    angle = np.degrees(np.arctan2(-along[:, 1], along[:, 0]))
    return np.maximum(la, ld), np.minimum(la, ld), angle


def _lines(boxes: np.ndarray) -> np.ndarray:
    """Mask of the boxes elongated and large enough to be text lines."""
    long, short, _ = _geometry(boxes)
    return (long >= MIN_LONG_PX) & (long >= MIN_ASPECT * np.maximum(short, 1e-3))


def _skew_from_boxes(boxes: np.ndarray) -> float:
    if len(boxes) < 3:
        return 0.0
    keep = _lines(boxes)
    if keep.sum() < 3:
        return 0.0
    _, _, angle = _geometry(boxes[keep])
    folded = (angle + 45.0) % 90.0 - 45.0  # the line angle modulo the page orientation, in [-45, 45)
    return round(float(np.median(folded)), 2)


def _crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quad's content with only its small tilt removed: a horizontal line gives a wide crop, a vertical one a tall crop.

    Built from the quad's centre, sides and long-edge angle, so it does not depend on the order of its corners.
    """
    import cv2

    long, short, angle = (float(v[0]) for v in _geometry(quad[None]))
    tilt = math.radians((angle + 45.0) % 90.0 - 45.0)
    vertical = abs(abs(angle) - 90.0) < 45.0
    w, h = (short, long) if vertical else (long, short)
    if w < 2 or h < 2:
        return np.zeros((0, 0, 3), np.uint8)
    centre = quad.mean(axis=0)
    ex = np.array([math.cos(tilt), -math.sin(tilt)], np.float32)  # the crop's x axis, in image coordinates (y down)
    ey = np.array([math.sin(tilt), math.cos(tilt)], np.float32)  # its y axis
    src = np.array(
        [centre - w / 2 * ex - h / 2 * ey, centre + w / 2 * ex - h / 2 * ey, centre - w / 2 * ex + h / 2 * ey], np.float32
    )
    dst = np.array([[0, 0], [w, 0], [0, h]], np.float32)
    matrix = cv2.getAffineTransform(src, dst)
    return cv2.warpAffine(image, matrix, (round(w), round(h)), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _rec_score(crops: list[np.ndarray], engine) -> float:
    """Mean recognition confidence over the crops (0 for a crop read as nothing)."""
    scores = []
    with _engine_flags(engine):
        for crop in crops:
            result = engine(np.ascontiguousarray(crop), use_det=False, use_cls=False, use_rec=True)
            txts, vals = getattr(result, "txts", None) or (), getattr(result, "scores", None) or ()
            text = "".join(txts).strip()
            scores.append(float(np.mean(vals)) if text and len(vals) else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def _orientation_from_boxes(image: Image.Image, boxes: np.ndarray, factor: float, engine) -> int:
    if len(boxes) == 0:
        return 0
    long, _, angle = _geometry(boxes)
    keep = _lines(boxes)
    if not keep.any():
        keep = np.ones(len(boxes), bool)
    vertical = np.abs(np.abs(angle) - 90.0) < 45.0
    weight_v = float(long[keep & vertical].sum())
    weight_h = float(long[keep & ~vertical].sum())
    is_vertical = weight_v > weight_h
    candidates = (90, 270) if is_vertical else (0, 180)

    pick = np.flatnonzero(keep & (vertical if is_vertical else ~vertical))
    pick = pick[np.argsort(-long[pick])][:SAMPLE_LINES]
    full = _rgb(image)
    crops = [_crop(full, boxes[i] * factor) for i in pick]
    crops = [c for c in crops if c.size]
    if not crops:
        return candidates[0]
    # undoing a clockwise turn by r is a counter-clockwise turn by r: np.rot90 with k = r / 90
    first = _rec_score([np.rot90(c, candidates[0] // 90) for c in crops], engine)
    if candidates[0] == 0 and first >= CONFIDENT:
        return 0  # read upright with confidence: upside-down text is not read that well
    second = _rec_score([np.rot90(c, candidates[1] // 90) for c in crops], engine)
    return candidates[1] if second > first else candidates[0]


def detect_orientation(image: Image.Image, engine) -> int:
    """The clockwise rotation (0, 90, 180 or 270 degrees) the page was turned by: the angle to undo.

    One text detection on a copy with its long side at most `WORK_SIDE` px; if most of the line boxes
    (weighted by length) are taller than wide the page lies on its side (90 or 270), otherwise it is
    0 or 180. The two candidates are told apart by recognising up to `SAMPLE_LINES` of the longest
    lines, cropped from the full-resolution image, in both orientations, keeping the one with the
    higher mean recognition score; when the lines read upright score `CONFIDENT` or more, upside down is not
    tried (half the recognition on the common, upright page). Returns 0 for a page without detectable text.
    """
    boxes, factor = _detect(image, engine)
    return _orientation_from_boxes(image, boxes, factor, engine)


def estimate_skew(image: Image.Image, engine) -> float:
    """The small skew of the text lines in degrees, positive = counter-clockwise.

    The median of the long-edge angles of the detected line boxes (boxes that are short or not
    elongated are ignored), folded into [-45, 45) so that it is the same whatever the page's
    90-degree orientation. `image.rotate(-skew, expand=True)` straightens the page. Returns 0.0
    when fewer than 3 boxes are found.
    """
    boxes, _ = _detect(image, engine)
    return _skew_from_boxes(boxes)


def upright(image: Image.Image, engine, max_skew: float = 10.0) -> tuple[Image.Image, dict]:
    """The page turned upright and deskewed, with {"rotation": int, "skew": float}.

    One detection pass gives both the orientation and the skew. The orientation is undone losslessly
    with `Image.transpose`; the skew is undone with `Image.rotate(-skew, expand=True)` and a white fill
    when MIN_SKEW (0.3) < |skew| <= max_skew. `info["rotation"]` is the clockwise rotation that was undone
    (see `detect_orientation`) and `info["skew"]` the counter-clockwise skew that was removed (0.0 when
    the page was not deskewed, including a measured skew above `max_skew`, which is taken as unreliable).
    """
    boxes, factor = _detect(image, engine)
    rotation = _orientation_from_boxes(image, boxes, factor, engine)
    skew = _skew_from_boxes(boxes)
    out = image.transpose(_TRANSPOSE[rotation]) if rotation else image
    applied = 0.0
    if MIN_SKEW < abs(skew) <= max_skew:
        if out.mode not in ("L", "RGB", "RGBA"):
            out = out.convert("RGB")
        out = out.rotate(-skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")
        applied = skew
    return out, {"rotation": rotation, "skew": applied}


__all__ = ["detect_orientation", "estimate_skew", "upright"]
