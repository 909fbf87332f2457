import random

import pytest

from rag.evaluation.parse_scores import Node, cer, edit_distance, html_text, parse_table, tables_in, teds, tree_edit_distance


def _dp_distance(a: str, b: str) -> int:
    """Textbook two-row Levenshtein, the reference for the bit-parallel one."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = row
    return prev[-1]


def _table(rows: list[list[str]], header: list[str] | None = None, spans: dict[tuple[int, int], str] | None = None) -> str:
    spans = spans or {}
    head = "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>" if header else ""
    body = "".join(
        "<tr>" + "".join(f"<td{spans.get((r, c), '')}>{text}</td>" for c, text in enumerate(row)) + "</tr>"
        for r, row in enumerate(rows)
    )
    return f"<table>{head}<tbody>{body}</tbody></table>"


HEADER = ["Year", "Revenue", "Profit"]
ROWS = [["2023", "1,200", "150"], ["2024", "1,450", "210"]]


def test_cer_known_values():
    assert cer("abcdefghij", "abcdefghij") == 0.0
    assert cer("abcdefghij", "abcdefgXij") == pytest.approx(0.1)  # one substitution in 10 chars
    assert cer("abcdefghij", "abcdefghijkl") == pytest.approx(0.2)  # two insertions
    assert cer("abcdefghij", "abdefghij") == pytest.approx(0.1)  # one deletion
    assert cer("abcd", "") == 1.0
    assert cer("ab", "abcdef") == pytest.approx(2.0)  # insertions are not capped


def test_cer_normalises_whitespace_and_handles_empty_reference():
    assert cer("hello   world\n", "  hello\tworld") == 0.0
    assert cer("a b", "a  b") == 0.0
    assert cer("", "") == 0.0
    assert cer("  \n", "") == 0.0
    assert cer("", "x") == 1.0


def test_edit_distance_matches_textbook_dp():
    rng = random.Random(7)
    for _ in range(400):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 140)))  # > 64 chars: multi-word bit vectors
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 140)))
        assert edit_distance(a, b) == _dp_distance(a, b)
    assert edit_distance(["a", "b"], ["b"]) == 1  # any sequence of hashables
    assert edit_distance("kitten", "sitting") == 3


def test_cer_on_long_text():
    rng = random.Random(3)
    ref = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(20_000))
    hyp = list(ref)
    for i in rng.sample(range(len(ref)), 200):
        hyp[i] = "#"  # a character the reference never has: each must cost one edit
    assert cer(ref, "".join(hyp)) == pytest.approx(200 / 20_000)


def test_zhang_shasha_classic_example():
    # Zhang & Shasha (1989) / the `zss` package: f(d(a c(b)) e) vs f(c(d(a b)) e) is 2 edits.
    a = Node("f", [Node("d", [Node("a"), Node("c", [Node("b")])]), Node("e")])
    b = Node("f", [Node("c", [Node("d", [Node("a"), Node("b")])]), Node("e")])
    assert tree_edit_distance(a, b) == 2.0
    assert tree_edit_distance(a, a) == 0.0
    assert tree_edit_distance(Node("x"), Node("y")) == 1.0
    assert tree_edit_distance(a, Node("f")) == 5.0  # delete the five other nodes


def test_teds_identical_tables():
    table = _table(ROWS, HEADER)
    assert teds(table, table) == 1.0
    assert teds(f"<p>before</p>{table}<p>after</p>", table) == 1.0  # a fragment with a table anywhere


def test_teds_changed_cell_text():
    changed = [["2023", "1,200", "150"], ["2024", "1,450", "999"]]
    score = teds(_table(ROWS, HEADER), _table(changed, HEADER))
    assert 0.8 < score < 1.0
    assert score == pytest.approx(1 - 1 / 15)  # 15 nodes; "210" -> "999" renames one cell at cost 1
    assert teds(_table(ROWS, HEADER), _table(changed, HEADER), structure_only=True) == 1.0


def test_teds_missing_row_costs_more_than_changed_cell():
    changed = teds(_table(ROWS, HEADER), _table([ROWS[0], ["2024", "1,450", "999"]], HEADER))
    missing = teds(_table(ROWS, HEADER), _table(ROWS[:1], HEADER))
    assert missing == pytest.approx(1 - 4 / 15)  # delete one tr and its three cells
    assert missing < changed


def test_teds_colspan_difference_lowers_score():
    ref = _table([["a", "b", "c"], ["d", "", "e"]])
    merged = _table([["a", "b", "c"], ["d", "e"]], spans={(1, 0): ' colspan="2"'})
    assert teds(ref, ref) == 1.0
    assert teds(ref, merged) < 1.0
    assert teds(ref, merged, structure_only=True) < 1.0
    explicit_one = _table([["a", "b", "c"], ["d", "", "e"]], spans={(1, 0): ' colspan="1"'})
    assert teds(ref, explicit_one) == 1.0  # a missing span equals "1"


def test_teds_th_and_td_are_distinct_as_in_pubtabnet():
    with_header = _table(ROWS, HEADER)
    header_as_td = _table([HEADER, *ROWS]).replace("<tbody>", "<thead>", 1)
    header_as_td = header_as_td.replace("</tr>", "</tr></thead><tbody>", 1)
    assert parse_table(header_as_td).size() == parse_table(with_header).size()
    assert teds(with_header, header_as_td) == pytest.approx(1 - 3 / 15)


def test_teds_structure_only_ignores_text():
    other_text = [["x", "y", "z"], ["u", "v", "w"]]
    assert teds(_table(ROWS, HEADER), _table(other_text, HEADER), structure_only=True) == 1.0
    assert teds(_table(ROWS, HEADER), _table(other_text, HEADER)) < 0.7


def test_teds_without_tables():
    table = _table(ROWS, HEADER)
    assert teds("<p>no table</p>", "<p>none either</p>") == 1.0
    assert teds(table, "<p>no table</p>") == 0.0
    assert teds("<p>no table</p>", table) == 0.0


def test_parse_table_infers_optional_tags():
    tree = parse_table("<table><tr><td>a<td rowspan=2>b<tr><td>c</table><table><tr><td>second</table>")
    assert [n.tag for n in tree.children] == ["tbody"]
    rows = tree.children[0].children
    assert [[(c.text, c.rowspan) for c in row.children] for row in rows] == [[("a", 1), ("b", 2)], [("c", 1)]]
    nested = parse_table("<table><tr><td>outer <table><tr><td>inner</td></tr></table> end</td></tr></table>")
    assert nested.size() == 4 and nested.children[0].children[0].children[0].text == "outer inner end"


def test_tables_in_returns_each_top_level_table():
    first, second = _table(ROWS, HEADER), "<TABLE class='x'><tr><td>2</td></tr></TABLE>"
    nested = "<table><tr><td><table><tr><td>in</td></tr></table></td></tr></table>"
    assert tables_in(f"<p>x</p>{first}<p>y</p>{second}") == [first, second]
    assert tables_in(nested) == [nested]
    assert tables_in("<p>none</p>") == []


def test_html_text_skips_header_and_footer():
    html = (
        '<article><section data-page="1"><header>ACME Annual Report</header><h1>Results</h1>'
        "<p>Revenue grew &amp; profit rose.</p><table><tr><td>2024</td><td>1,450</td></tr></table>"
        "<footer>Page 1</footer></section></article>"
    )
    assert html_text(html) == "Results\nRevenue grew & profit rose.\n2024 1,450"


def test_reading_order_cer_via_html_text():
    left = "The first column explains how the parser finds text blocks on each page of the document."
    right = "The second column describes how tables are detected and converted into structured rows."
    reference = f"<article><section><p>{left}</p><p>{right}</p></section></article>"
    correct = f'<article><section data-page="1"><header>Running head</header><p>{left}</p><p>{right}</p></section></article>'
    interleaved = " ".join(a + " " + b for a, b in zip(left.split(), right.split()))
    wrong = f"<article><section><p>{interleaved}</p></section></article>"
    good = cer(html_text(reference), html_text(correct))
    bad = cer(html_text(reference), html_text(wrong))
    assert good == 0.0
    assert bad > 0.5


def test_tree_edit_distance_agrees_with_apted_on_random_trees():
    """The hand-written Zhang-Shasha distance is the one the reference package computes (it is kept for speed)."""
    import random

    from apted import APTED, Config

    class LabelConfig(Config):
        def rename(self, a, b):
            return 0.0 if a.tag == b.tag else 1.0

        def children(self, node):
            return node.children

    rng = random.Random(7)

    def tree(depth: int) -> Node:
        kids = [tree(depth - 1) for _ in range(rng.randint(0, 3))] if depth else []
        return Node(rng.choice(["table", "tr", "td", "th"]), kids)

    for _ in range(40):
        a, b = tree(4), tree(4)
        assert tree_edit_distance(a, b) == APTED(a, b, LabelConfig()).compute_edit_distance()
