"""The tesseract OCR engine's pure parts: TSV parsing, skew from a projection profile, the engine setting."""

import pytest
from PIL import Image, ImageDraw

from ingest.ocr.engines import RapidOcrReader, make_ocr
from ingest.ocr.tesseract import TesseractReader, projection_skew, words_from_tsv
from rag.core.errors import BadInput, MissingExtra
from rag.core.settings import Settings

TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t1000\t1400\t-1\t",
        "4\t1\t1\t1\t1\t0\t100\t200\t300\t30\t-1\t",
        "5\t1\t1\t1\t1\t1\t100\t205\t120\t22\t96.5\tAnnual",
        "5\t1\t1\t1\t1\t2\t235\t203\t165\t27\t91.0\tReport",
        "5\t1\t1\t1\t1\t3\t410\t203\t10\t27\t12.0\t~",
        "4\t1\t1\t1\t2\t0\t100\t240\t200\t20\t-1\t",
        "5\t1\t1\t1\t2\t1\t100\t240\t200\t20\t88.0\t2024",
        "5\t1\t1\t1\t2\t2\t320\t240\t20\t20\t90.0\t ",
    ]
)


def test_words_from_tsv_take_their_lines_height_and_drop_low_confidence():
    words = words_from_tsv(TSV, min_conf=30)
    assert [w.text for w in words] == ["Annual", "Report", "2024"]
    assert [(w.x0, w.top, w.x1, w.bottom) for w in words[:2]] == [(100, 200, 220, 230), (235, 200, 400, 230)]
    assert words[0].size == pytest.approx(24.0)


def _lines_image(angle: float) -> Image.Image:
    img = Image.new("L", (900, 700), 255)
    draw = ImageDraw.Draw(img)
    for row in range(12):
        for col in range(14):
            draw.rectangle((60 + col * 56, 60 + row * 48, 60 + col * 56 + 44, 60 + row * 48 + 14), fill=0)
    return img.rotate(angle, expand=True, fillcolor=255)


@pytest.mark.parametrize("angle", [0.0, 4.0, -2.5])
def test_projection_skew_measures_a_counter_clockwise_turn_as_positive(angle):
    import numpy as np

    assert projection_skew(np.asarray(_lines_image(angle))) == pytest.approx(angle, abs=0.3)


def test_the_engine_setting_picks_the_reader_and_names_what_to_install(monkeypatch, tmp_path):
    assert Settings().parse.ocr_engine == "rapidocr"
    monkeypatch.setenv("RAG_PARSE__OCR_ENGINE", "tesseract")
    assert Settings().parse.ocr_engine == "tesseract"
    monkeypatch.setenv("RAG_PARSE__OCR_ENGINE", "easyocr")
    with pytest.raises(ValueError):
        Settings()
    assert isinstance(make_ocr("rapidocr"), RapidOcrReader)
    with pytest.raises(BadInput, match="unknown OCR engine 'easyocr'"):
        make_ocr("easyocr")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract program on the path
    with pytest.raises(MissingExtra, match="apt-get install tesseract-ocr"):
        make_ocr("tesseract")
    with pytest.raises(MissingExtra, match="not found"):
        TesseractReader(binary="no-such-tesseract").warm_up()
