"""The table detection scorer (`rag.evaluation.table_regions`) on hand-made cases."""

import json

import pytest

from ingest.evaluation.table_regions import best_variant, load_gold
from rag.evaluation.table_regions import (
    GoldTable,
    best_assignment,
    cell_texts,
    content_similarity,
    flat_table_html,
    score_document,
    summarise,
)

GOLD_A = "<table><tr><td>Item</td><td>2019</td></tr><tr><td>Coal</td><td>1 200</td></tr></table>"
GOLD_B = "<table><tr><td>Country</td><td>Share</td></tr><tr><td>France</td><td>12%</td></tr></table>"


def test_flat_table_html_drops_caption_sections_and_header_cells():
    ours = (
        '<table data-bbox="1,2,3,4"><caption>Table 1</caption><thead><tr><th colspan="1">Item</th><th>2019</th></tr>'
        '</thead><tbody><tr><td rowspan="1">Coal</td><td>1\u00a0200</td></tr></tbody></table>'
    )
    assert flat_table_html(ours) == "<table><tr><td>Item</td><td>2019</td></tr><tr><td>Coal</td><td>1 200</td></tr></table>"


def test_flat_table_html_keeps_real_spans():
    assert flat_table_html('<table><tr><th colspan="2">A</th></tr></table>') == '<table><tr><td colspan="2">A</td></tr></table>'


def test_cell_texts_in_order():
    assert cell_texts(GOLD_A) == ["Item", "2019", "Coal", "1 200"]


def test_content_similarity_words_and_bigrams():
    assert content_similarity(["a b", "c"], ["a", "b c"]) == 1.0
    assert content_similarity(["alpha"], ["omega"]) < 0.5
    # spacing differs ("1200" read as one word): the character bigrams still match
    assert content_similarity(["1 200", "Coal"], ["1200 Coal"]) == 1.0


def test_best_assignment_is_optimal_not_greedy():
    # greedy on row 0 would take column 0 (0.9) and leave row 1 with nothing above the threshold
    scores = [[0.9, 0.8], [0.85, 0.1]]
    assert best_assignment(scores) == [(0, 1), (1, 0)]


def test_best_assignment_threshold_and_wide_matrices():
    assert best_assignment([[0.4, 0.49]]) == []
    assert best_assignment([[0.1, 0.2, 0.7]]) == [(0, 2)]
    assert best_assignment([[0.6], [0.9], [0.7]]) == [(1, 0)]
    assert best_assignment([]) == []


def test_score_document_counts_misses_false_positives_and_teds():
    gold = [GoldTable("d/t1", 1, GOLD_A, False), GoldTable("d/t2", 2, GOLD_B, False)]
    ours = {
        1: [GOLD_A.replace("<td>Item</td><td>2019</td>", "<th>Item</th><th>2019</th>")],  # perfect once flattened
        3: ["<table><tr><td>noise</td></tr></table>"],  # a table where there is none
    }
    score = score_document("d", gold, ours)
    assert score.predicted == 2
    assert [g.matched for g in score.gold] == [True, False]
    assert score.gold[0].teds == 1.0
    assert score.gold[1].teds == 0.0
    summary = summarise([score])
    assert summary["precision"] == 0.5
    assert summary["recall"] == 0.5
    assert summary["f1"] == 0.5
    assert summary["teds"] == 0.5
    assert summary["teds_matched"] == 1.0


def test_score_document_penalises_a_wrong_structure():
    gold = [GoldTable("d/t1", 1, GOLD_A, False)]
    merged = "<table><tr><td>Item 2019</td></tr><tr><td>Coal 1 200</td></tr></table>"  # columns lost
    score = score_document("d", gold, {1: [merged]})
    assert score.gold[0].matched
    assert 0.3 < score.gold[0].teds < 0.9


def test_spanning_tables_reported_apart():
    spanning = '<table><tr><td colspan="2">Head</td></tr><tr><td>a</td><td>b</td></tr></table>'
    gold = [GoldTable("d/t1", 1, GOLD_A, False), GoldTable("d/t2", 1, spanning, True)]
    summary = summarise([score_document("d", gold, {1: [GOLD_A]})])
    assert summary["teds_simple"] == 1.0
    assert summary["teds_spanning"] == 0.0
    assert (summary["simple_tables"], summary["spanning_tables"]) == (1, 1)


def test_the_better_gold_variant_counts(tmp_path):
    lines = [
        {"id": "x/t1", "doc": "pdfs/x.pdf", "page": 1, "gt_variant": "a", "html": GOLD_B},
        {"id": "x/t1b", "doc": "pdfs/x.pdf", "page": 1, "gt_variant": "b", "html": GOLD_A},
        {"id": "x/t2", "doc": "pdfs/x.pdf", "page": 2, "gt_variant": None, "html": GOLD_B},
    ]
    (tmp_path / "tables.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    gold = load_gold(tmp_path)["pdfs/x.pdf"]
    score = best_variant("pdfs/x.pdf", gold, {1: [GOLD_A], 2: [GOLD_B]})
    assert sorted(g.id for g in score.gold) == ["x/t1b", "x/t2"]
    assert score.total_teds == pytest.approx(2.0)
