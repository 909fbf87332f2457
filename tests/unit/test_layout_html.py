"""The stored layout HTML read back (`read_layout_html`): what `rag index rebuild --rechunk` chunks again."""

import pytest

from ingest.chunker import chunk_document
from ingest.page import Block, Page, ParsedDocument
from ingest.parse.from_html import read_layout_html
from ingest.parse.html import to_html
from ingest.parse.tables import cells_from_grid, table_text
from rag.core.errors import BadInput


def every_kind() -> ParsedDocument:
    rows = cells_from_grid([["Site", "Q1 & Q2"]] + [[f"Site <{i}>", str(i)] for i in range(30)])
    rows[0][0]["colspan"] = 1
    merged = [
        [{"text": "Region", "colspan": 2, "rowspan": 1}],
        [{"text": "North", "colspan": 1, "rowspan": 2}, {"text": "7", "colspan": 1, "rowspan": 1}],
    ]
    side = (400.0, 100.0, 580.0, 300.0)
    p1 = Page(
        1,
        612,
        792,
        [
            Block("header", (50, 10, 200, 20), "ACME confidential"),
            Block("title", (50, 40, 400, 70), "Annual Report"),
            Block("heading", (50, 80, 400, 95), "Operations", level=2),
            Block("paragraph", (50, 100, 380, 200), "The plant ran all year & never stopped.\nA second line."),
            Block("list_item", (50, 210, 380, 220), "first point", ordered=True),
            Block("list_item", (50, 222, 380, 232), "second point", ordered=True),
            Block("list_item", (50, 240, 380, 250), "a bullet"),
            Block("paragraph", (410, 110, 570, 150), "Sidebar text", aside=side),
            Block("list_item", (410, 160, 570, 170), "sidebar bullet", aside=side),
            Block("formula", (50, 260, 380, 280), "E = mc^2 (1)", marker="1"),
            Block("caption", (50, 290, 380, 300), "Figure 1: output"),
            Block("figure", (50, 300, 380, 400), "axis label\nlegend", caption="Figure 1: output"),
            Block("footnote", (50, 700, 380, 710), "1 Unaudited."),
            Block("footer", (290, 770, 310, 780), "1"),
        ],
        source="ocr",
        rotation=90,
    )
    p2 = Page(
        2,
        612,
        792,
        [
            Block("table", (50, 60, 500, 700), text=table_text(rows), rows=rows, caption="Output by site"),
            Block("table", (50, 710, 500, 760), text=table_text(merged), rows=merged, header_rows=1),
        ],
    )
    p3 = Page(
        3, 612, 792, [Block("table", (50, 60, 500, 700), text=table_text(rows[5:]), rows=rows[5:], continued=True, header_rows=0)]
    )
    p4 = Page(4, 612, 792, [], error="could not read this page: broken stream")
    return ParsedDocument("report <2024>.pdf", [p1, p2, p3, p4], "pdf")


def test_layout_html_reads_back_to_the_same_html():
    html = to_html(every_kind())
    again = read_layout_html(html)
    assert to_html(again) == html
    assert again.name == "report <2024>.pdf" and len(again.pages) == 4
    assert again.pages[0].source == "ocr" and again.pages[0].rotation == 90 and again.pages[3].error.startswith("could not")


def test_chunks_of_the_read_back_layout_are_the_chunks_of_the_parse():
    original = chunk_document(every_kind(), "d1", max_words=40)
    again = chunk_document(read_layout_html(to_html(every_kind())), "d1", max_words=40)
    assert [(c.id, c.heading, c.text, c.html) for c in again] == [(c.id, c.heading, c.text, c.html) for c in original]
    assert len(original) > 3


def test_text_that_is_not_layout_html_is_refused():
    with pytest.raises(BadInput, match="not layout HTML"):
        read_layout_html("<html><body><p>hello</p></body></html>")
    with pytest.raises(BadInput, match="outside any"):
        read_layout_html("<article><p data-bbox='0,0,1,1'>stray</p></article>")
