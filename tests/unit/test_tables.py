from ingest.page import Block, Word
from ingest.parse.html import table_html
from ingest.parse.tables import cells_from_grid, grid_from_cells, header_rows, ruled_tables, split_caption, table_text


def test_plain_grid_keeps_every_cell():
    rows = cells_from_grid([["a", "b"], ["1", ""]])
    assert [[c["text"] for c in r] for r in rows] == [["a", "b"], ["1", ""]]


def test_none_cells_become_colspan_and_rowspan():
    rows = cells_from_grid([["Region", "Sales", None], ["North", "10", "11"], [None, "12", "13"]])
    assert rows[0][1] == {"text": "Sales", "colspan": 2, "rowspan": 1}
    assert rows[1][0] == {"text": "North", "colspan": 1, "rowspan": 2}
    assert [c["text"] for c in rows[2]] == ["12", "13"]


def test_block_spanning_rows_and_columns_counts_once():
    rows = cells_from_grid([["X", None, "c"], [None, None, "d"]])
    assert rows[0][0] == {"text": "X", "colspan": 2, "rowspan": 2}


def test_table_html_has_thead_and_spans():
    rows = cells_from_grid([["Region", "Sales", None], ["North", "10", "11"], [None, "12", "13"]])
    html = table_html(Block("table", (1, 2, 3, 4), rows=rows, text=table_text(rows)))
    assert html.startswith('<table data-bbox="1,2,3,4"><thead><tr><th>Region</th><th colspan="2">Sales</th>')
    assert '<td rowspan="2">North</td>' in html


# ---- grids rebuilt over the words (ingest.parse.tables.grid_from_cells) -----------------------------------------


def word(text, x0, top, width=None, height=8.0):
    return Word(text, x0, top, x0 + (width or 5.0 * len(text)), top + height, size=height)


def texts(rows):
    return [[(c["text"], c["colspan"], c["rowspan"]) for c in r] for r in rows]


def test_a_column_between_double_rules_holds_no_word_and_goes():
    # columns at 0-100, a 3-point gap (a double rule) at 100-103, then 103-200
    cells = [(0, 0, 100, 20), (100, 0, 103, 20), (103, 0, 200, 20), (0, 20, 100, 40), (100, 20, 103, 40), (103, 20, 200, 40)]
    words = [word("Country", 5, 5), word("2019", 120, 5), word("France", 5, 25), word("1.2", 120, 25)]
    assert texts(grid_from_cells(cells, words)) == [[("Country", 1, 1), ("2019", 1, 1)], [("France", 1, 1), ("1.2", 1, 1)]]


def test_rows_no_rule_separates_are_cut_when_they_are_rows_of_figures():
    cells = [(0, 0, 100, 20), (100, 0, 200, 20), (0, 20, 100, 80), (100, 20, 200, 80)]
    words = [word("Item", 5, 5), word("Value", 120, 5)]
    words += [word(name, 5, top) for name, top in (("Coal", 25), ("Gas", 45), ("Oil", 65))]
    words += [word(value, 120, top) for value, top in (("1.0", 25), ("2.0", 45), ("3.0", 65))]
    assert texts(grid_from_cells(cells, words)) == [
        [("Item", 1, 1), ("Value", 1, 1)],
        [("Coal", 1, 1), ("1.0", 1, 1)],
        [("Gas", 1, 1), ("2.0", 1, 1)],
        [("Oil", 1, 1), ("3.0", 1, 1)],
    ]


def test_a_cell_of_several_lines_of_text_stays_one_cell():
    cells = [(0, 0, 100, 20), (100, 0, 200, 20), (0, 20, 100, 80), (100, 20, 200, 80)]
    words = [word("Group", 5, 5), word("Brands", 120, 5), word("Astra", 5, 25)]
    words += [word(text, 105, top) for text, top in (("Total: 47%", 25), ("Fruit (8.4%)", 45), ("Effi (10.5%)", 65))]
    rows = grid_from_cells(cells, words)
    assert texts(rows)[1] == [("Astra", 1, 1), ("Total: 47% Fruit (8.4%) Effi (10.5%)", 1, 1)]


def test_a_row_ruled_across_every_column_is_cut_into_its_cells_but_a_centred_phrase_spans():
    header = [(0, 0, 100, 20), (100, 0, 200, 20), (200, 0, 300, 20)]
    cells = [*header, (0, 20, 300, 40), (0, 40, 100, 60), (100, 40, 300, 60)]
    words = [word("Country", 5, 5), word("n", 150, 5), word("%Pos", 250, 5)]
    words += [word("Austria", 5, 25), word("109", 150, 25), word("0.9", 250, 25)]
    words += [word("Total", 5, 45), word("all", 180, 45, width=15), word("years", 198, 45, width=25)]  # centred on 200
    assert texts(grid_from_cells(cells, words)) == [
        [("Country", 1, 1), ("n", 1, 1), ("%Pos", 1, 1)],
        [("Austria", 1, 1), ("109", 1, 1), ("0.9", 1, 1)],
        [("Total", 1, 1), ("all years", 2, 1)],
    ]


def test_caption_row_and_stacked_headers():
    rows = cells_from_grid([["Table 3. Emissions", None, None], ["Sector", "2010", "2015"], ["Energy", "412", "388"]])
    caption, rest = split_caption(rows)
    assert caption == "Table 3. Emissions" and [c["text"] for c in rest[0]] == ["Sector", "2010", "2015"]
    assert split_caption(cells_from_grid([["Threshold", None], ["a", "b"], ["1", "2"]]))[0] == ""  # no "Table N"
    stacked = cells_from_grid([["", "Finland", None], ["", "Female", "Male"], ["1995", "59.0", "64.2"]])
    assert header_rows(stacked) == 2
    assert header_rows(cells_from_grid([["", "Finland", None], ["1995", "59.0", "64.2"], ["2000", "1", "2"]])) == 1


def test_rows_of_dates_then_years_under_the_first_row_are_header_rows():
    """A statement's "December 31," over "2018 | 2017": both head every piece the table is cut into; a row of
    years in the first column (a time series) is data."""
    dated = cells_from_grid(
        [
            ["", "December 31,", "December 31,"],
            ["(Dollars in millions)", "2018", "2017"],
            ["Cash", "2,853", "3,053"],
            ["Total", "9", "8"],
        ]
    )
    assert header_rows(dated) == 2
    fiscal = cells_from_grid([["", "Fiscal 2022", "Fiscal 2021"], ["Net sales", "14,694", "14,544"], ["Total", "1", "2"]])
    assert header_rows(fiscal) == 1
    series = cells_from_grid([["Year", "Output"], ["2018", "59.0"], ["2019", "64.2"], ["2020", "61.0"]])
    assert header_rows(series) == 1


def test_a_section_label_opening_a_table_is_not_its_header():
    """ "Assets" over a balance sheet's rows would head every piece of the table, the liabilities' too."""
    rows = cells_from_grid([["Assets", "", ""], ["Current assets:", "", ""], ["Cash", "689", "775"], ["Total", "5", "6"]])
    assert header_rows(rows) == 0
    spanned = cells_from_grid([["Assets", None, None], ["Current assets:", "", ""], ["Cash", "689", "775"], ["Total", "5", "6"]])
    assert header_rows(spanned) == 1  # one cell across the table: a title row, kept as before


def test_chart_gridlines_are_a_figure():
    # a 4 x 2 grid of strokes with the labels all in one band: a chart's gridlines, not a table
    segments = [(0, y, 200, y) for y in (0, 20, 40, 60, 80)] + [(x, 0, x, 80) for x in (0, 100, 200)]
    words = [word(str(v), 5, 3) for v in (10,)] + [word("Jan", 105, 63)]
    blocks = ruled_tables(segments, words)
    assert [b.kind for b in blocks] == ["figure"]
