"""Pages turned by 90/180/270 degrees or skewed by a few degrees are put upright and read (real rapidocr models)."""

import re
from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.ocr.orientation import detect_orientation, estimate_skew, upright

pytestmark = pytest.mark.slow

LINES = [
    "The harbour crane was inspected in March by the safety team.",
    "Every forklift must carry a valid permit from the depot office.",
    "Lunch is served in the north cafeteria between noon and two.",
    "The fire drill happens every second Tuesday at the west gate.",
    "Invoices above five thousand euros need two signatures.",
    "Visitors sign the register at the reception desk downstairs.",
    "Broken ladders are tagged in red and removed the same day.",
    "Questions about parking go to the facilities manager.",
]


@pytest.fixture(scope="module")
def engine():
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.log_level": "error"})


@pytest.fixture(scope="module")
def page() -> Image.Image:
    """A white A4 page at 150 dpi with eight lines of known text."""
    img = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=34)
    for i, line in enumerate(LINES):
        draw.text((90, 150 + 70 * i), line, fill="black", font=font)
    return img


def words(text: str) -> Counter:
    return Counter(re.findall(r"[a-z0-9]+", text.lower()))


def overlap(expected: str, got: str) -> float:
    """Share of the expected words (with multiplicity) found in the OCR text."""
    want = words(expected)
    return sum((want & words(got)).values()) / sum(want.values())


def read(engine, image: Image.Image) -> str:
    result = engine(np.asarray(image.convert("RGB")))
    return " ".join(result.txts or ())


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_turned_page_is_detected_and_read(engine, page, rotation):
    turned = page.rotate(-rotation, expand=True)  # PIL turns counter-clockwise: this is a clockwise turn
    flags = (engine.use_det, engine.use_cls, engine.use_rec)
    assert detect_orientation(turned, engine) == rotation
    # rapidocr keeps use_det/use_cls/use_rec passed to a call: the caller's engine must be left as it was
    assert (engine.use_det, engine.use_cls, engine.use_rec) == flags

    fixed, info = upright(turned, engine)
    assert info["rotation"] == rotation
    assert abs(info["skew"]) < 1.0
    assert fixed.size == page.size
    assert overlap(" ".join(LINES), read(engine, fixed)) >= 0.9


@pytest.mark.parametrize("skew", [4.0, -4.0])
def test_skewed_page_is_straightened_and_read(engine, page, skew):
    skewed = page.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")  # + = counter-clockwise
    assert abs(estimate_skew(skewed, engine) - skew) <= 1.0

    fixed, info = upright(skewed, engine)
    assert info["rotation"] == 0
    assert abs(info["skew"] - skew) <= 1.0
    assert overlap(" ".join(LINES), read(engine, fixed)) >= 0.9
