"""The PDF and image paths on generated documents whose text is known exactly (real pdfplumber, rapidocr)."""

import re

import pytest

from ingest.parse.html import to_html
from ingest.parse.pdf import parse_image, parse_pdf
from ingest.parse.scan import ScanReader
from rag.core.errors import CorruptFile, EncryptedFile

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ocr():
    return ScanReader()


def blocks(doc, kind=None):
    return [b for p in doc.pages for b in p.blocks if kind is None or b.kind == kind]


def test_text_layer_pdf_title_headings_and_pages(docs):
    doc = parse_pdf(docs["facts"])
    assert len(doc.pages) == 2 and all(p.source == "text" for p in doc.pages)
    assert [b.text for b in blocks(doc, "title")] == ["Site Facts"]
    assert [b.text for b in blocks(doc, "heading")] == ["Fleet maintenance", "Cafeteria"]
    page2 = " ".join(b.text for b in doc.pages[1].blocks)
    assert "The cafeteria on level 2 serves lunch between 11:30 and 13:30." in page2


def test_two_columns_read_left_then_right(docs):
    text = " ".join(b.text for b in parse_pdf(docs["two_column"]).pages[0].blocks)
    order = [text.index(s) for s in ("Quarterly Review", "Left one", "Left two", "Right one", "Right two")]
    assert order == sorted(order)


def test_ruled_table_becomes_table_html(docs):
    html = to_html(parse_pdf(docs["table"]))
    assert "<thead><tr><th>Site</th><th>Q1</th><th>Q2</th></tr></thead>" in html
    assert "<tr><td>Bergen</td><td>7</td><td>9</td></tr>" in html
    assert "The table above lists the figures" in html


def test_merged_cells_become_colspan_and_rowspan(docs):
    html = to_html(parse_pdf(docs["merged"]))
    assert '<th colspan="2">Sales</th>' in html
    assert '<td rowspan="2">North</td>' in html


def test_html_contract_every_block_has_page_and_bbox(docs):
    html = to_html(parse_pdf(docs["facts"]))
    assert html.startswith('<article data-doc="facts.pdf" data-pages="2">')
    assert re.findall(r'<section data-page="(\d+)"', html) == ["1", "2"]
    for tag in re.findall(r"<(h\d|p|table|header|footer)\b[^>]*>", html):
        assert tag
    assert len(re.findall(r'data-bbox="[\d.]+,[\d.]+,[\d.]+,[\d.]+"', html)) >= 5


def test_scanned_pdf_is_read_with_ocr(docs, ocr):
    doc = parse_pdf(docs["scan"], ocr)
    assert doc.pages[0].source == "ocr"
    text = " ".join(b.text for b in blocks(doc))
    assert "The fire drill happens every second Tuesday." in text
    x0, top, x1, bottom = blocks(doc)[0].bbox
    assert 0 <= x0 < x1 <= doc.pages[0].width and 0 <= top < bottom <= doc.pages[0].height  # PDF points


def test_page_image_is_read_with_ocr(docs, ocr):
    doc = parse_image(docs["image"], ocr)
    text = " ".join(b.text for b in blocks(doc))
    assert "INVOICE 2291" in text and "4,310 EUR" in text
    assert doc.pages[0].width == 1240  # pixels


def test_encrypted_and_corrupt_pdfs_get_clear_errors(docs):
    with pytest.raises(EncryptedFile, match="encrypted PDF"):
        parse_pdf(docs["encrypted"])
    with pytest.raises(CorruptFile, match="corrupt or unreadable PDF: corrupt.pdf"):
        parse_pdf(docs["corrupt"])


def test_rotated_page_image_is_read_upright(docs, ocr, tmp_path):
    from PIL import Image

    path = tmp_path / "rotated.png"
    Image.open(docs["image"]).rotate(-90, expand=True).save(path)
    doc = parse_image(path, ocr)
    assert doc.pages[0].rotation == 90
    assert "Total due: 4,310 EUR" in " ".join(b.text for b in blocks(doc))
    assert '<section data-page="1" data-width="1240" data-height="1754" data-source="ocr" data-rotation="90">' in to_html(doc)


def test_pdf_mixing_text_and_scanned_pages_is_read_page_by_page(docs, ocr, tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for source in (docs["facts"], docs["scan"]):
        for page in PdfReader(str(source)).pages:
            writer.add_page(page)
    path = tmp_path / "mixed.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    doc = parse_pdf(path, ocr)
    assert [p.source for p in doc.pages] == ["text", "text", "ocr"]
    assert "fire drill happens every second Tuesday" in " ".join(b.text for b in doc.pages[2].blocks)


def test_pdf_encrypted_with_an_empty_user_password_opens(docs, tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(docs["facts"])).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    path = tmp_path / "aes.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    assert "Ingrid Solheim" in to_html(parse_pdf(path))


def test_lists_and_running_headers_in_a_generated_report(tmp_path):
    from tests.helpers import docgen

    pages = [
        (
            f"Part {i}",
            [
                "\u2022 first item of the list",
                "\u2022 second item of the list",
                "A closing paragraph with enough words to be body text for this page.",
            ],
        )
        for i in (1, 2, 3)
    ]
    path = docgen.simple_pdf(tmp_path / "lists.pdf", pages, title="List Report", running_header="Northwind internal")
    html = to_html(parse_pdf(path))
    assert html.count("<header") == 3 and "Northwind internal" in html
    assert html.count("<footer") == 3  # page numbers
    assert "<ul>" in html and "<li" in html and "first item of the list</li>" in html


def test_scanned_table_is_rebuilt_from_the_image(docs, ocr, tmp_path):
    import pypdfium2 as pdfium

    image = pdfium.PdfDocument(str(docs["merged"]))[0].render(scale=200 / 72).to_pil()
    path = tmp_path / "merged-scan.png"
    image.save(path)
    html = to_html(parse_image(path, ocr))
    table = html[html.index("<table") : html.index("</table>")]
    assert '<th colspan="2">Sales</th>' in table and '<td rowspan="2">North</td>' in table
    assert "<td>12</td><td>13</td>" in table


def test_a_page_that_fails_is_reported_and_the_rest_is_read(docs, monkeypatch):
    import ingest.parse.pdf as pdf_module

    real = pdf_module._Range.page

    def flaky(self, index):
        if index == 0:
            raise ValueError("malformed content stream")
        return real(self, index)

    monkeypatch.setattr(pdf_module._Range, "page", flaky)
    doc = parse_pdf(docs["facts"])
    assert doc.errors == ["page 1: ValueError: malformed content stream"]
    assert "cafeteria on level 2" in " ".join(b.text for b in doc.pages[1].blocks)
    assert 'data-error="ValueError: malformed content stream"' in to_html(doc)
