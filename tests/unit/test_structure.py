from ingest.page import Block, Page
from ingest.parse.structure import apply_document_structure


def page(n: int, blocks: list[Block]) -> Page:
    return Page(n, 612, 792, blocks)


def test_running_headers_page_numbers_title_and_heading_levels():
    pages = []
    for n in (1, 2, 3):
        blocks = [Block("paragraph", (50, 20, 300, 30), "ACME Corp annual report 2024", size=9)]
        if n == 1:
            blocks.append(Block("paragraph", (50, 60, 400, 90), "Annual Report", size=24))
        blocks += [
            Block("paragraph", (50, 100, 400, 114), f"{n}. Results by region", size=14),
            Block("paragraph", (50, 120, 400, 132), f"{n}.1 North", size=12),
            Block("paragraph", (50, 140, 500, 300), "Body text " * 30, size=10),
            Block("paragraph", (290, 760, 310, 770), str(n), size=10),
        ]
        pages.append(page(n, blocks))
    apply_document_structure(pages, body_size=10)
    p1 = pages[0].blocks
    assert [b.kind for b in p1] == ["header", "title", "heading", "heading", "paragraph", "footer"]
    assert [b.level for b in p1[1:4]] == [1, 2, 3]
    assert all(p.blocks[0].kind == "header" and p.blocks[-1].kind == "footer" for p in pages)


def test_outline_decides_heading_levels():
    pages = [
        page(
            1,
            [
                Block("paragraph", (50, 100, 400, 114), "Methods", size=14),
                Block("paragraph", (50, 120, 400, 134), "Sampling", size=14),
                Block("paragraph", (50, 140, 500, 300), "Body text " * 30, size=10),
            ],
        )
    ]
    apply_document_structure(pages, 10, toc=[(0, "Methods"), (1, "Sampling")])
    assert [b.level for b in pages[0].blocks[:2]] == [2, 3]


def test_captions_attach_to_figures_and_tables_and_text_inside_figures_moves_in():
    rows = [[{"text": "a", "colspan": 1, "rowspan": 1}, {"text": "b", "colspan": 1, "rowspan": 1}]]
    blocks = [
        Block("figure", (50, 100, 300, 300)),
        Block("paragraph", (80, 150, 200, 160), "axis label", size=8),
        Block("paragraph", (50, 305, 300, 315), "Figure 1: Output by month", size=9),
        Block("paragraph", (50, 330, 300, 340), "Table 2: Sites", size=9),
        Block("table", (50, 345, 300, 400), text="a | b", rows=rows),
        Block("paragraph", (50, 420, 500, 600), "Body text " * 30, size=10),
    ]
    p = page(1, blocks)
    apply_document_structure([p], 10)
    fig, table = p.blocks[0], p.blocks[1]
    assert fig.kind == "figure" and fig.caption == "Figure 1: Output by month" and fig.text == "axis label"
    assert table.kind == "table" and table.caption == "Table 2: Sites"
    assert [b.kind for b in p.blocks] == ["figure", "table", "paragraph"]


def test_table_continued_on_next_page_is_marked():
    row = [{"text": "x", "colspan": 1, "rowspan": 1}] * 3
    p1 = page(
        1, [Block("paragraph", (50, 100, 500, 200), "Intro " * 20, size=10), Block("table", (50, 300, 500, 740), rows=[row, row])]
    )
    p2 = page(
        2, [Block("table", (50, 80, 500, 300), rows=[row, row]), Block("paragraph", (50, 320, 500, 400), "After " * 20, size=10)]
    )
    apply_document_structure([p1, p2], 10)
    assert p2.blocks[0].continued and not p1.blocks[1].continued


def test_centred_lines_opening_a_page_above_a_table_head_it_in_the_body_font():
    """A statement's title set in the body font ("Consolidated Statements of Income") starts a section of its own,
    so the bold heading of the previous page does not run on over the statement; the same lines off centre, or
    not above a table, stay a paragraph."""
    row = [{"text": "x", "colspan": 1, "rowspan": 1}] * 3
    p1 = page(
        1,
        [
            Block("paragraph", (50, 100, 300, 112), "Critical Audit Matters", size=10, level=1),
            Block("paragraph", (50, 120, 560, 400), "Body text " * 40, size=10),
        ],
    )
    title = "ACME plc and Subsidiaries Consolidated Statements of Income ($ in millions)"
    p2 = page(2, [Block("paragraph", (228, 45, 384, 80), title, size=10), Block("table", (15, 90, 596, 500), rows=[row, row])])
    p3 = page(3, [Block("paragraph", (50, 45, 206, 80), title, size=10), Block("table", (15, 90, 596, 500), rows=[row, row])])
    p4 = page(4, [Block("paragraph", (228, 45, 384, 80), title, size=10), Block("paragraph", (50, 90, 560, 300), "Body " * 40)])

    # the date over the label column and the years over the figures come first in reading order (AMCOR's balance sheet)
    def opening(statement: str) -> list[Block]:
        return [
            Block("paragraph", (17, 88, 71, 98), "As of June 30,", size=10),
            Block("paragraph", (206, 45, 406, 80), title.replace("Income", statement), size=10),
            Block("paragraph", (468, 88, 486, 98), "2023", size=10),
        ]

    p5 = page(5, [*opening("Balance Sheets"), Block("table", (16, 100, 596, 700), rows=[row, row])])
    body = Block("paragraph", (50, 100, 560, 300), "Body " * 40)
    p6 = page(6, [*opening("Cash Flows"), body, Block("table", (16, 320, 596, 700), rows=[row])])
    apply_document_structure([p1, p2, p3, p4, p5, p6], 10)
    assert p1.blocks[0].kind == "heading"
    assert p2.blocks[0].kind == "heading" and p2.blocks[0].level == p1.blocks[0].level
    assert p3.blocks[0].kind == "paragraph" and p4.blocks[0].kind == "paragraph"
    assert [b.kind for b in p5.blocks[:3]] == ["paragraph", "heading", "paragraph"]
    assert p6.blocks[1].kind == "paragraph"  # a paragraph of text before the table: no title


def test_a_year_over_a_column_in_the_top_margin_is_not_a_running_header():
    """Numbers in running headers count as one ("Page 3"), but a block that is only a number keeps it: the years over
    a statement's columns, near the top of tall pages, differ from page to page and are content."""
    pages = []
    for n, year in enumerate(("2023", "2022", "2021", "2020"), start=1):
        blocks = [
            Block("paragraph", (50, 20, 300, 30), "ACME Corp annual report", size=9),
            Block("paragraph", (470, 60, 490, 70), year, size=10),
            Block("paragraph", (50, 140, 500, 300), "Body text " * 30, size=10),
        ]
        pages.append(page(n, blocks))
    apply_document_structure(pages, 10)
    assert [b.kind for b in pages[0].blocks] == ["header", "paragraph", "paragraph"]
