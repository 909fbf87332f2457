"""Tables without rules found by word alignment: financial statements with long row labels, section labels,
wrapped labels and year headers that sit off the columns of the values; prose is not a table."""

from ingest.page import Word
from ingest.parse.unruled import find_unruled_tables

LINE = 14.0  # points from one row to the next
SIZE = 10.0


def _segment(text: str, x: float, top: float) -> list[Word]:
    """Words of `text` from x, 5 points per character, one space (3 points) between words."""
    out = []
    for word in text.split():
        width = 5.0 * len(word)
        out.append(Word(text=word, x0=x, top=top, x1=x + width, bottom=top + SIZE, size=SIZE))
        x += width + 3.0
    return out


def _page(rows: list[list[tuple[str, float]]]) -> list[Word]:
    words: list[Word] = []
    for i, row in enumerate(rows):
        for text, x in row:
            words += _segment(text, x, 100.0 + i * LINE)
    return words


def _grid(words: list[Word]) -> list[list[str]]:
    tables = find_unruled_tables(words, [])
    assert len(tables) == 1, [t.text for t in tables]
    return [[c["text"] for c in row] for row in tables[0].rows]


def test_statement_with_long_labels_section_labels_and_off_column_years_is_one_table():
    words = _page(
        [
            [("(in millions, except share and per share amounts)", 20), ("2022", 445), ("2021", 525)],
            [("Assets", 20)],
            [("Current assets:", 20)],
            [("Cash and cash equivalents", 36), ("$", 420), ("1,671", 470), ("2,148", 550)],
            [("Trade accounts receivable, net of doubtful accounts - $40 and $42", 36), ("1,721", 470), ("2,004", 550)],
            [("Inventories (Note 5)", 36), ("2,904", 470), ("2,481", 550)],
            [("Total current assets", 44), ("7,453", 470), ("7,659", 550)],
            [("Property, plant and equipment, net of accumulated depreciation (Note 8)", 20), ("15,371", 465), ("15,804", 545)],
            [("Liabilities and Equity", 20)],
            [("Current liabilities:", 20)],
            [("Accounts payable", 36), ("1,804", 470), ("1,612", 550)],
            [("Total current liabilities", 44), ("5,175", 470), ("4,806", 550)],
        ]
    )
    grid = _grid(words)
    assert grid[0] == ["(in millions, except share and per share amounts)", "", "2022", "2021"]
    assert grid[1] == ["Assets", "", "", ""]
    assert grid[2] == ["Current assets:", "", "", ""]  # a section label is a row of its own, not joined to the next
    assert grid[3] == ["Cash and cash equivalents", "$", "1,671", "2,148"]
    assert grid[4] == ["Trade accounts receivable, net of doubtful accounts - $40 and $42", "", "1,721", "2,004"]
    assert grid[7][0].startswith("Property, plant and equipment") and grid[7][2:] == ["15,371", "15,804"]
    assert grid[8] == ["Liabilities and Equity", "", "", ""]
    assert grid[-1] == ["Total current liabilities", "", "5,175", "4,806"]


def test_a_long_label_wrapped_over_two_lines_is_one_cell():
    words = _page(
        [
            [("Revenue", 20), ("100", 470), ("90", 550)],
            [("Cost of sales", 20), ("60", 470), ("50", 550)],
            [("Common stock, par value $0.50 per share; shares authorized 3.8 billion; shares issued 1.8", 20)],
            [("billion", 36), ("910", 470), ("907", 550)],
            [("Retained earnings", 20), ("16,778", 465), ("16,389", 545)],
        ]
    )
    grid = _grid(words)
    assert len(grid) == 4
    assert grid[2][0].endswith("shares issued 1.8 billion") and grid[2][1:] == ["910", "907"]


def test_a_header_across_two_value_columns_does_not_join_them():
    words = _page(
        [
            [("(in millions)", 20), ("Fiscal years ended June 30", 440)],  # one segment over both year columns
            [("Net sales", 20), ("14,694", 470), ("14,544", 550)],
            [("Cost of sales", 20), ("(11,969)", 460), ("(11,724)", 540)],
            [("Gross profit", 20), ("2,725", 475), ("2,820", 555)],
        ]
    )
    table = find_unruled_tables(words, [])[0]
    header = table.rows[0]
    assert [(c["text"], c["colspan"]) for c in header] == [("(in millions)", 1), ("Fiscal years ended June 30", 2)]
    assert [[c["text"] for c in row] for row in table.rows[1:]] == [
        ["Net sales", "14,694", "14,544"],
        ["Cost of sales", "(11,969)", "(11,724)"],
        ["Gross profit", "2,725", "2,820"],
    ]


def test_prose_lines_with_a_number_are_not_a_table():
    words = _page(
        [
            [("Net sales increased by $147 million, or 4%, in fiscal year 2023, compared to fiscal year", 20)],
            [("2022. Excluding the pass-through of raw material costs of $260 million and negative", 20)],
            [("currency impacts of $22 million, the remaining variation in net sales was favourable", 20)],
        ]
    )
    assert find_unruled_tables(words, []) == []


def test_rows_of_long_text_beside_long_text_are_not_a_table():
    """Two long segments on a line (two columns of prose) never make a table row: only values may follow a long
    label."""
    words = _page(
        [
            [("The Company recognises revenue when control passes to the customer", 20), ("Shipping terms vary", 420)],
            [("at the point of shipment or of delivery, depending on the terms of", 20), ("by region and by product", 420)],
            [("each contract with the customer, net of returns and 2 discounts", 20), ("line, see Note 3 below", 420)],
        ]
    )
    assert find_unruled_tables(words, []) == []


def test_two_header_rows_of_dates_and_years_off_the_value_columns_stay_headers():
    """As on 3M's balance sheet: the years sit left of the figures' columns, "$" signs have columns of their own."""
    words = _page(
        [
            [("December 31,", 400), ("December 31,", 480)],
            [("(Dollars in millions)", 20), ("2018", 415), ("2017", 495)],
            [("Cash and cash equivalents", 36), ("$", 392), ("853", 442), ("$", 475), ("053", 518)],
            [("Marketable securities — current", 36), ("380", 442), ("076", 518)],
            [("Total current assets", 44), ("709", 442), ("277", 518)],
        ]
    )
    grid = _grid(words)
    assert grid[1] == ["(Dollars in millions)", "", "2018", "", "2017"]
    assert grid[2] == ["Cash and cash equivalents", "$", "853", "$", "053"]
    assert grid[4] == ["Total current assets", "", "709", "", "277"]
