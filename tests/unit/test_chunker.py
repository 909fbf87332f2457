from ingest.chunker import chunk_document, chunk_id
from ingest.page import Block, Page, ParsedDocument
from ingest.parse.tables import cells_from_grid, table_text


def doc() -> ParsedDocument:
    rows = cells_from_grid([["Site", "Q1"]] + [[f"Site {i}", str(i)] for i in range(40)])
    p1 = Page(
        1,
        612,
        792,
        [
            Block("header", (50, 10, 200, 20), "ACME confidential"),
            Block("title", (50, 40, 400, 70), "Annual Report", level=1),
            Block("heading", (50, 80, 400, 95), "Operations", level=2),
            Block("paragraph", (50, 100, 500, 200), "The plant ran all year without a stop. " * 3),
            Block("footer", (290, 770, 310, 780), "1"),
        ],
    )
    p2 = Page(
        2,
        612,
        792,
        [
            Block("heading", (50, 40, 400, 55), "Output", level=2),
            Block("table", (50, 60, 500, 700), text=table_text(rows), rows=rows),
        ],
    )
    return ParsedDocument("report.pdf", [p1, p2], "pdf")


def test_chunks_follow_pages_and_skip_headers_and_footers():
    chunks = chunk_document(doc(), "d1", max_words=40)
    assert {c.page for c in chunks} == {1, 2}
    assert all("ACME confidential" not in c.text for c in chunks)
    first = chunks[0]
    assert first.page == 1 and first.heading == "Annual Report > Operations"
    assert first.text.startswith("Annual Report\nOperations\nThe plant ran")


def test_long_table_is_split_by_rows_with_header_repeated():
    chunks = [c for c in chunk_document(doc(), "d1", max_words=40) if c.page == 2]
    assert len(chunks) > 1
    for c in chunks:
        assert "<th>Site</th><th>Q1</th>" in c.html
        assert c.heading == "Annual Report > Output"  # the breadcrumb carries across pages
    all_text = "\n".join(c.text for c in chunks)
    assert all(f"Site {i} | {i}" in all_text for i in range(40))


def test_chunk_ids_are_content_hashes():
    a = chunk_document(doc(), "d1", max_words=40)
    b = chunk_document(doc(), "d2", max_words=40)
    assert [c.id for c in a] == [c.id for c in chunk_document(doc(), "d1", max_words=40)]
    assert not {c.id for c in a} & {c.id for c in b}  # another document version: other ids
    assert chunk_id("d", 1, "x") != chunk_id("d", 2, "x") != chunk_id("e", 1, "x")


def test_long_paragraph_is_cut_below_the_word_limit():
    page = Page(1, 612, 792, [Block("paragraph", (0, 0, 1, 1), " ".join(f"Sentence {i} has six words." for i in range(100)))])
    chunks = chunk_document(ParsedDocument("x.pdf", [page], "pdf"), "d", max_words=50)
    assert len(chunks) >= 10 and all(len(c.text.split()) <= 50 for c in chunks)


def test_table_continued_on_the_next_page_carries_the_header_into_its_chunks():
    def cells(*texts):
        return [{"text": t, "colspan": 1, "rowspan": 1} for t in texts]

    first = [cells("Date", "Amount"), cells("1 May", "10"), cells("2 May", "20")]
    rest = [cells("3 May", "30"), cells("4 May", "40")]
    p1 = Page(1, 612, 792, [Block("table", (50, 500, 500, 740), text=table_text(first), rows=first)])
    p2 = Page(2, 612, 792, [Block("table", (50, 60, 500, 200), text=table_text(rest), rows=rest, continued=True)])
    chunks = chunk_document(ParsedDocument("ledger.pdf", [p1, p2], "pdf"), "d", max_words=100)
    second = [c for c in chunks if c.page == 2][0]
    assert second.text.startswith("Date | Amount\n3 May | 30")
    assert "<thead><tr><th>Date</th><th>Amount</th></tr></thead>" in second.html


def test_every_piece_of_a_long_table_says_which_table_it_is():
    rows = [[{"text": "Line item"}, {"text": "2018"}, {"text": "2017"}]] + [
        [{"text": f"Item {i}"}, {"text": str(i)}, {"text": str(i + 1)}] for i in range(40)
    ]
    from ingest.parse.tables import table_text

    blocks = [
        Block("heading", (0, 0, 1, 1), "Financial Statements", level=1),
        Block("paragraph", (0, 0, 1, 1), "Acme Corp and Subsidiaries"),
        Block("paragraph", (0, 0, 1, 1), "Consolidated Statement of Cash Flows"),
        Block("paragraph", (0, 0, 1, 1), "(Dollars in millions)"),
        Block("table", (0, 0, 1, 1), table_text(rows), rows=rows),
    ]
    chunks = chunk_document(ParsedDocument("x.pdf", [Page(1, 612, 792, blocks)], "pdf"), "d", max_words=40)
    tables = [c for c in chunks if "Item " in c.text]
    assert len(tables) >= 3 and "Item 39" in tables[-1].text  # split by rows
    title = "Acme Corp and Subsidiaries / Consolidated Statement of Cash Flows / (Dollars in millions)"
    assert all(c.heading == f"Financial Statements > {title}" for c in tables)


def _statement_page(number: int, opening: list[Block], toc: bool = True) -> Page:
    body = [
        Block(
            "paragraph",
            (50, 200 + i * 40, 500, 230 + i * 40),
            f"Line item {number}-{i} amounted to {i * 7} million in the year, up from the year before.",
        )
        for i in range(12)
    ]
    running = [Block("paragraph", (50, 20, 200, 30), "Table of Contents")] if toc else []
    return Page(number, 612, 792, running + opening + body)


def test_the_short_lines_a_page_opens_with_are_every_chunks_title():
    title = [
        Block("paragraph", (50, 40, 400, 55), "ACME Corp and Subsidiaries"),
        Block("paragraph", (50, 60, 400, 75), "Consolidated Balance Sheet"),
        Block("paragraph", (50, 80, 400, 95), "2024"),  # a column head: no letters, passed over
        Block("paragraph", (50, 100, 400, 115), "At December 31"),
    ]
    pages = [_statement_page(1, title)]
    pages += [_statement_page(n, []) for n in range(2, 6)]  # "Table of Contents" opens five pages: a running line
    chunks = chunk_document(ParsedDocument("acme.pdf", pages, "pdf"), "d1", max_words=40)
    first_page = [c for c in chunks if c.page == 1]
    assert len(first_page) > 2
    assert first_page[0].text.startswith("Table of Contents\nACME Corp")  # the chunk holding the title lines
    for c in first_page[1:]:
        assert c.heading == "ACME Corp and Subsidiaries / Consolidated Balance Sheet / At December 31"
    assert all(c.heading == "" for c in chunks if c.page > 1)  # those pages open with prose: no title


def test_a_page_that_opens_mid_sentence_or_with_prose_has_no_title():
    opening = [Block("paragraph", (50, 40, 400, 55), "continued from the previous page, the plan")]
    chunks = chunk_document(ParsedDocument("a.pdf", [_statement_page(1, opening, toc=False)], "pdf"), "d1", max_words=40)
    assert all(c.heading == "" for c in chunks)
    opening = [Block("paragraph", (50, 40, 400, 55), "Current assets:")]
    chunks = chunk_document(ParsedDocument("a.pdf", [_statement_page(1, opening, toc=False)], "pdf"), "d1", max_words=40)
    assert all(c.heading == "" for c in chunks)


def test_page_title_comes_before_a_tables_title_and_after_the_headings():
    rows = cells_from_grid([["Item", "2024"]] + [[f"Item {i}", str(i)] for i in range(40)])
    page = Page(
        1,
        612,
        792,
        [
            Block("heading", (50, 20, 400, 35), "Financial Statements", level=1),
            Block("paragraph", (50, 40, 400, 55), "ACME Corp"),
            Block("paragraph", (50, 60, 400, 75), "Statement of Cash Flows"),
            Block("table", (50, 80, 500, 700), text=table_text(rows), rows=rows, caption="Cash flows"),
        ],
    )
    chunks = chunk_document(ParsedDocument("a.pdf", [page], "pdf"), "d1", max_words=40)
    tables = [c for c in chunks if "<table" in c.html]
    assert len(tables) > 1
    assert tables[-1].heading == "Financial Statements > ACME Corp / Statement of Cash Flows > Cash flows"


def test_the_page_title_survives_a_later_heading_that_replaces_it_in_the_breadcrumb():
    opening = [
        Block("heading", (50, 20, 400, 35), "Consolidated Balance Sheets", level=2),
        Block("paragraph", (50, 40, 400, 55), "$ in millions"),
        Block("heading", (50, 60, 400, 75), "February 3, 2018", level=2),  # a column head the layout took for a heading
    ]
    page = _statement_page(1, opening, toc=False)
    chunks = chunk_document(ParsedDocument("a.pdf", [page], "pdf"), "d1", max_words=30)
    later = [c for c in chunks if not c.text.startswith("Consolidated")]
    assert later and all(c.heading == "February 3, 2018 > Consolidated Balance Sheets / $ in millions" for c in later)


def test_fragments_join_a_neighbour_on_their_page():
    long = "The plant ran all year without a stop and the output grew by four percent over the year."  # 18 words
    page1 = Page(
        1,
        612,
        792,
        [
            Block("heading", (50, 20, 400, 35), "Output", level=2),
            Block("paragraph", (50, 40, 400, 80), long),
            Block("heading", (50, 90, 400, 105), "Stores", level=2),
            Block("paragraph", (50, 110, 400, 125), "Total stores 134"),  # a fragment: joins the chunk before it
        ],
    )
    page2 = Page(
        2,
        612,
        792,
        [
            Block("heading", (50, 20, 400, 35), "February 2, 2019", level=2),  # a fragment opening a page: joins the next
            Block("heading", (50, 40, 400, 55), "Staff", level=2),
            Block("paragraph", (50, 60, 400, 100), long),
        ],
    )
    doc = ParsedDocument("a.pdf", [page1, page2], "pdf")
    apart = chunk_document(doc, "d1", max_words=60, min_words=1)
    joined = chunk_document(doc, "d1", max_words=60, min_words=1, merge_below=15)
    assert [c.text for c in apart] == ["Output\n" + long, "Stores\nTotal stores 134", "February 2, 2019", "Staff\n" + long]
    assert [c.text for c in joined] == ["Output\n" + long + "\nStores\nTotal stores 134", "February 2, 2019\nStaff\n" + long]
    assert [c.heading for c in joined] == ["Output", "Staff"] and [c.page for c in joined] == [1, 2]
    assert joined[0].bbox == [50, 20, 400, 125] and joined[0].html.count("<h2") == 2
    assert chunk_document(doc, "d1", max_words=20, min_words=1, merge_below=15)[0].text == "Output\n" + long  # too long together


def test_crumbs_that_head_most_of_a_long_document_or_hold_no_word_are_dropped():
    cover = [
        Block("title", (50, 40, 500, 60), "UNITED STATES SECURITIES AND EXCHANGE COMMISSION", level=1),
        Block("heading", (50, 70, 500, 85), "FORM 10-K", level=2),
        Block("paragraph", (50, 100, 500, 200), "Annual report pursuant to section 13 of the act. " * 3),
    ]
    pages = [Page(1, 612, 792, cover)]
    for n in range(2, 26):
        blocks = [Block("paragraph", (50, 100, 500, 200), f"Sales in region {n} grew by a few points this year. " * 2)]
        if n % 3 == 0:
            blocks.insert(0, Block("heading", (50, 70, 500, 85), f"Region {n}", level=3))
        if n == 10:
            blocks.insert(0, Block("heading", (50, 60, 500, 68), "50 55 55 56", level=3))  # page numbers read as a heading
        pages.append(Page(n, 612, 792, blocks))
    chunks = chunk_document(ParsedDocument("10k.pdf", pages, "pdf"), "d1", merge_below=15)
    assert len(chunks) >= 20
    assert not any("SECURITIES" in c.heading or "FORM 10-K" in c.heading for c in chunks)
    assert any(c.heading == "Region 6" for c in chunks)  # a section heading that heads a few chunks stays
    assert not any("50 55" in c.heading for c in chunks)
    assert chunks[0].text.startswith("UNITED STATES SECURITIES")  # the cover's own text is untouched
    short = chunk_document(doc(), "d2", max_words=40)  # a short document keeps its whole trail
    assert short[0].heading == "Annual Report > Operations"


def test_table_pieces_have_their_own_length_limit():
    tables = lambda **kw: [c for c in chunk_document(doc(), "d1", max_words=40, **kw) if c.page == 2]  # noqa: E731
    default, small = tables(), tables(table_words=12)
    assert len(small) > len(default)
    assert all(len(c.text.split()) <= 14 for c in small)  # the header row repeated, then rows up to the limit
    assert all("Site | Q1\n" in c.text for c in small)  # the first piece opens with the heading above the table
