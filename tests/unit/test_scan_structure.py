"""Headings, header and footer on scanned pages: box heights, numbering and the layout model's regions."""

from ingest.page import Block, Page, Word
from ingest.parse.regions import blocks_from_regions
from ingest.parse.structure import apply_document_structure, size_levels


def line(text: str, x: float, top: float, height: float = 14) -> Word:
    """One OCR line (rapidocr returns lines), size 0.8 x the box height as the OCR reader sets it."""
    return Word(text, x, top, x + 9 * len(text), top + height, 0.8 * height)


def test_title_region_splits_a_heading_from_the_paragraph_under_it():
    words = [
        line("1. Summary", 54, 150, 15),
        line("Total abstraction from the four reservoirs was", 54, 167),
        line("41,870 megalitres in the quarter to September.", 54, 181),
    ]
    plain = blocks_from_regions(words, [], [], 842)
    assert len(plain) == 1  # without the model the heading runs into its paragraph
    hinted = blocks_from_regions(words, [], [("title", (50, 148, 160, 166))], 842)
    assert [(b.kind, b.text) for b in hinted] == [
        ("paragraph", "Total abstraction from the four reservoirs was 41,870 megalitres in the quarter to September."),
        ("heading", "1. Summary"),
    ]


def test_header_and_footer_regions_tag_margin_blocks_only():
    words = [
        line("Northwind Water Authority - Quarterly Review", 54, 26, 10),
        line("Page 1 of 2", 280, 808, 10),
        line("Body text in the middle of the page", 54, 400),
    ]
    hints = [("header", (50, 20, 500, 40)), ("footer", (270, 800, 400, 820)), ("header", (50, 390, 500, 420))]
    kinds = {b.text: b.kind for b in blocks_from_regions(words, [], hints, 842)}
    assert kinds == {
        "Northwind Water Authority - Quarterly Review": "header",
        "Page 1 of 2": "footer",
        "Body text in the middle of the page": "paragraph",
    }


def test_ocr_headings_from_box_height_and_numbering_with_levels():
    body = "Rainfall over the catchments was 212 mm, 88% of the long-term average for the quarter. " * 3
    blocks = [
        Block("paragraph", (61, 59, 534, 79), "Reservoir Operations in 2024", size=16),
        Block("paragraph", (109, 87, 486, 99), "Operations Office, Northwind Water Authority.", size=10.2),
        Block("paragraph", (52, 154, 291, 168), "Storage and inflows", size=12.9),
        Block("paragraph", (52, 170, 291, 250), body, size=8.8),
        Block("paragraph", (53, 260, 167, 272), "2.1Upland reservoirs", size=8.9),
        Block("paragraph", (52, 280, 291, 360), body, size=8.8),
        Block("paragraph", (52, 370, 291, 382), "3 pumps were out of service.", size=8.8),
        Block("paragraph", (52, 390, 291, 402), "Water quality", size=12.2),
    ]
    pages = [Page(1, 595, 842, blocks, source="ocr")]
    apply_document_structure(pages, body_size=8.8)
    got = [(b.kind, b.level) for b in pages[0].blocks]
    assert got == [
        ("title", 1),
        ("paragraph", 0),
        ("heading", 2),
        ("paragraph", 0),
        ("heading", 3),
        ("paragraph", 0),
        ("paragraph", 0),
        ("heading", 2),
    ]


def test_size_levels_group_close_ocr_heights():
    assert size_levels([14, 12, 10]) == {14: 2, 12: 3, 10: 4}
    assert size_levels([13.0, 12.5, 12.0, 10.5], 0.1) == {13.0: 2, 12.5: 2, 12.0: 2, 10.5: 3}
