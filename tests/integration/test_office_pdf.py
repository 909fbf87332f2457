"""A PDF made by LibreOffice (another producer than reportlab: TrueType subsets, ligatures), where it is installed."""

import shutil

import pytest

from ingest.evaluation.parse import score_html
from ingest.parse.html import to_html
from ingest.parse.pdf import parse_pdf
from tests.helpers.fixture_pages import office_pdf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("soffice") is None, reason="LibreOffice is not installed (apt-get install libreoffice-writer-nogui)"
    ),
]


def test_libreoffice_pdf_reads_exactly_with_its_ligatures_whole(tmp_path):
    pdf = office_pdf(tmp_path, shutil.which("soffice"))
    html = to_html(parse_pdf(pdf))
    assert "warehouse staff and" in html and "for five years" in html  # "ff" and "fi" ligatures stay one word
    score = score_html(pdf.name, (tmp_path / "office.truth.html").read_text(encoding="utf-8"), html)
    assert score.cer <= 0.01
    assert score.teds == [1.0]
    assert "<h1" in html and html.count("<h2") == 2 and html.count("<li") == 3
