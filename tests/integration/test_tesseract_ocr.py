"""The tesseract OCR engine on real scans (skipped only when the `tesseract` program is not installed)."""

import shutil

import pytest

from ingest.ocr.tesseract import TesseractReader
from ingest.parse.html import to_html
from ingest.parse.scan import ScanReader
from ingest.pipeline import Ingestor
from rag.service.services import Services
from tests.helpers.models import make_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("tesseract") is None, reason="the tesseract program is not installed (apt-get install tesseract-ocr)"
    ),
]


@pytest.fixture(scope="module")
def ingestor(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("data"))
    settings.parse.ocr_engine = "tesseract"
    return Ingestor(Services(settings))


def test_setting_selects_tesseract_and_a_scanned_pdf_is_read(ingestor, docs):
    assert isinstance(ingestor.ocr, ScanReader) and isinstance(ingestor.ocr.ocr, TesseractReader)
    doc = ingestor.parse(docs["scan"])
    assert doc.pages[0].source == "ocr"
    text = " ".join(b.text for b in doc.pages[0].blocks)
    assert "fire drill happens every second Tuesday" in text
    assert "ANNUAL SAFETY NOTE" in text


def test_tesseract_osd_turns_a_page_image_upright(ingestor, docs, tmp_path):
    from PIL import Image

    turned = tmp_path / "turned.png"
    with Image.open(docs["image"]) as img:
        img.rotate(90, expand=True).save(turned)  # turned counter-clockwise = 270 degrees clockwise
    doc = ingestor.parse(turned)
    assert doc.pages[0].rotation == 270
    html = to_html(doc)
    assert "INVOICE 2291" in html and "4,310" in html
