from ingest.page import Block
from ingest.parse.html import table_html
from ingest.parse.tables import cells_from_grid, table_text


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
