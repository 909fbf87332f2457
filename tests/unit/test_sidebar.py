"""Sidebars: a boxed panel beside the main text is read whole after it, wrapped in <aside>."""

from ingest.page import Block
from ingest.parse.html import blocks_html
from ingest.parse.sidebar import find_sidebars, order_with_sidebars

PANEL = (370, 95, 550, 230)


def page_blocks() -> list[Block]:
    return [
        Block("paragraph", (54, 105, 357, 168), "main one"),
        Block("paragraph", (380, 104, 440, 117), "At a glance"),
        Block("paragraph", (54, 176, 357, 226), "main two"),
        Block("list_item", (386, 148, 486, 160), "Capacity: 64 Ml a day."),
        Block("list_item", (386, 163, 476, 175), "Cost: $ 38.2 million."),
        Block("paragraph", (54, 254, 541, 291), "main three, full width below the panel"),
        Block("footer", (285, 806, 310, 816), "Page 1"),
    ]


def test_panel_beside_main_text_is_read_after_it_and_before_the_footer():
    order = [b.text for b in order_with_sidebars(page_blocks(), [PANEL], [365.0], 842)]
    assert order == [
        "main one",
        "main two",
        "main three, full width below the panel",
        "At a glance",
        "Capacity: 64 Ml a day.",
        "Cost: $ 38.2 million.",
        "Page 1",
    ]


def test_sidebar_blocks_are_wrapped_in_one_aside():
    blocks = order_with_sidebars(page_blocks(), [PANEL], [365.0], 842)
    html = "\n".join(blocks_html([b for b in blocks if b.kind != "footer"]))
    assert html.count("<aside") == 1 and html.count("</aside>") == 1
    inner = html[html.index("<aside") : html.index("</aside>")]
    assert 'data-bbox="370,95,550,230"' in inner and "At a glance" in inner and "<ul>" in inner and "</ul>" in inner
    assert "main" not in inner


def test_a_full_width_box_or_an_empty_box_is_not_a_sidebar():
    blocks = page_blocks()
    assert find_sidebars(blocks, [(50, 100, 545, 300)]) == []  # wraps the main text too: too wide
    assert find_sidebars(blocks, [(100, 400, 300, 600)]) == []  # no text inside
    assert len(find_sidebars(blocks, [PANEL, (380, 100, 445, 120)])) == 1  # a box inside the panel adds nothing


def test_boxed_text_with_nothing_beside_it_stays_in_the_flow():
    blocks = [
        Block("paragraph", (54, 100, 541, 140), "before"),
        Block("paragraph", (150, 160, 400, 200), "note"),
        Block("paragraph", (54, 220, 541, 260), "after"),
    ]
    order = [b.text for b in order_with_sidebars(blocks, [(140, 150, 410, 210)], [], 842)]
    assert order == ["before", "note", "after"]


def test_the_frame_of_a_figure_is_not_a_sidebar():
    blocks = page_blocks() + [Block("figure", (372, 96, 548, 228))]
    assert find_sidebars(blocks, [PANEL]) == []


def test_chunks_keep_the_aside_around_sidebar_blocks():
    from ingest.chunker import chunk_document
    from ingest.page import Page, ParsedDocument

    blocks = order_with_sidebars(page_blocks(), [PANEL], [365.0], 842)
    for b in blocks:
        b.text = b.text + " words" * 10
    chunks = chunk_document(ParsedDocument("d.pdf", [Page(1, 595, 842, blocks)], "pdf"), "doc", max_words=1000)
    html = "\n".join(c.html for c in chunks)
    assert html.count("<aside") == 1 and "At a glance" in html.split("<aside")[1]


def test_a_drawn_frame_on_a_scan_is_a_panel_and_a_grid_is_a_table():
    from PIL import Image, ImageDraw

    from ingest.parse.scan import frame_boxes, ruled_table_boxes

    img = Image.new("RGB", (1200, 1600), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((800, 200, 1150, 600), outline="black", width=3)  # a panel's frame
    for y in range(900, 1301, 100):  # a 4 x 3 ruled grid
        draw.line((100, y, 700, y), fill="black", width=3)
    for x in range(100, 701, 200):
        draw.line((x, 900, x, 1300), fill="black", width=3)
    frames, tables = frame_boxes(img), ruled_table_boxes(img)
    assert len(frames) == 1 and abs(frames[0][0] - 800) < 4 and abs(frames[0][3] - 600) < 4
    assert len(tables) == 1 and abs(tables[0][0] - 100) < 4 and abs(tables[0][1] - 900) < 4
