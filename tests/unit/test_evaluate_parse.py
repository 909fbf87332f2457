from ingest.evaluation.parse import pairs, score_html

TRUTH = (
    "<article><header>ACME</header><h1>Report</h1><p>Alpha beta.</p>"
    "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
    "<footer>1</footer></article>"
)


def test_perfect_parse_scores_zero_cer_and_full_teds():
    row = score_html("x", TRUTH, TRUTH)
    assert row.cer == 0 and row.teds == [1.0] and row.tables_found == row.tables_truth == 1


def test_untagged_header_and_missing_table_are_penalised():
    ours = "<article><p>ACME</p><h1>Report</h1><p>Alpha beta.</p><p>a b 1 2</p></article>"
    row = score_html("x", TRUTH, ours)
    assert row.cer > 0.1 and row.teds == [0.0] and row.tables_found == 0


def test_pairs_match_documents_to_truth(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF-")
    (tmp_path / "a.truth.html").write_text(TRUTH)
    (tmp_path / "b.truth.html").write_text(TRUTH)  # no document: skipped
    assert pairs(tmp_path) == [(tmp_path / "a.pdf", tmp_path / "a.truth.html")]


def test_an_invented_table_scores_zero():
    truth = "<article><p>Alpha beta.</p></article>"
    ours = "<article><p>Alpha beta.</p><table><tr><td>x</td></tr></table></article>"
    assert score_html("x", truth, ours).teds == [0.0]
