"""The vectorised word-to-cell matcher gives exactly what rapid-table's own matcher gives."""

import numpy as np
from rapid_table.table_matcher.matcher import TableMatch

from ingest.parse.table_match import match_result


def test_same_cells_as_rapid_table_on_random_boxes():
    rng = np.random.default_rng(7)
    for _ in range(30):
        n_words, n_cells = int(rng.integers(1, 40)), int(rng.integers(1, 25))
        x0 = rng.uniform(0, 400, (n_words, 1))
        y0 = rng.uniform(0, 300, (n_words, 1))
        words = np.hstack([x0, y0, x0 + rng.uniform(2, 80, (n_words, 1)), y0 + rng.uniform(2, 15, (n_words, 1))])
        cx = rng.uniform(0, 400, (n_cells, 1)).round()  # whole numbers: ties happen, and must break the same way
        cy = rng.uniform(0, 300, (n_cells, 1)).round()
        cells = np.hstack([cx, cy, cx + rng.integers(5, 120, (n_cells, 1)), cy + rng.integers(5, 40, (n_cells, 1))])
        assert match_result(words, cells) == TableMatch().match_result(words, cells)


def test_eight_value_cells_and_empty_inputs():
    words = np.array([[10.0, 10, 20, 20], [110, 10, 120, 20]])
    quads = np.array([[0.0, 0, 50, 0, 50, 30, 0, 30], [100, 0, 150, 0, 150, 30, 100, 30]])
    assert match_result(words, quads) == {0: [0], 1: [1]}
    assert match_result(words, quads) == TableMatch().match_result(words, quads)
    assert match_result(np.zeros((0, 4)), quads) == {}
