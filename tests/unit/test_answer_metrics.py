"""Answer-evaluation scorers: numbers, token F1, cited pages, refusals, percentiles."""

import pytest

from rag.answering.prompts import is_refusal
from rag.evaluation.answer_scores import (
    citation_scores,
    gold_pages,
    latency_summary,
    numbers_match,
    outcome,
    parse_numbers,
    percentile,
    refusal_summary,
    score_answer,
    token_f1,
)


def values(text):
    return [n.value for n in parse_numbers(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$1,577.00", [1577.0]),
        ("1577", [1577.0]),
        ("(370)", [-370.0]),
        ("($1,234.5)", [-1234.5]),
        ("-370", [-370.0]),
        ("a loss of \u2212370", [-370.0]),
        ("12.5%", [12.5]),
        ("from 2019-2020", [2019.0, 2020.0]),  # a range, not a negative number
        ("FY2023 Q2", []),  # glued to letters: labels, not quantities
        ("It was 42 [1].", [42.0]),  # citation markers are not numbers
    ],
)
def test_numbers_are_read_with_sign_currency_and_grouping(text, expected):
    assert values(text) == expected


def test_scale_words_and_percent_add_candidate_values():
    billion = parse_numbers("1.5 billion")[0]
    assert billion.candidates == (1.5, 1.5e9)
    assert parse_numbers("$3M")[0].candidates == (3.0, 3e6)
    assert parse_numbers("12.5%")[0].candidates == (12.5, 0.125)
    assert parse_numbers("2023")[0].year_like and not parse_numbers("$2023")[0].year_like


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("Capital expenditure was $1,577 million [1].", "$1,577.00", True),
        ("It was 1,590 [1].", "1577", True),  # 0.8% off: inside 1%
        ("It was 1,600 [1].", "1577", False),  # 1.5% off
        ("The net change was (370).", "-370", True),
        ("The net change was 370.", "(370)", False),  # the sign matters
        ("Revenue reached 1.5 billion dollars.", "1500 million", True),
        ("Revenue reached 1,500 million.", "$1.5 billion", True),
        ("The margin was 12.5%.", "12.5 percent", True),
        ("In 2023 revenue was 99.", "In 2023 revenue was 12.", False),  # the year alone does not match
        ("The plant opened in 1998.", "1998", True),  # unless the gold answer has only years
        ("Not found in the documents.", "42", False),
    ],
)
def test_numbers_match_within_one_percent(answer, gold, expected):
    assert numbers_match(answer, gold) is expected


def test_numbers_match_is_none_without_gold_numbers():
    assert numbers_match("Ingrid Solheim [1].", "Ingrid Solheim") is None


def test_zero_is_only_close_to_zero():
    assert numbers_match("0", "0") is True and numbers_match("0.001", "0") is False


def test_token_f1_normalises_case_punctuation_and_articles():
    assert token_f1("The Harbour Crane!", "harbour crane")[0] == 1.0
    assert token_f1("It cost 1,577.", "it cost 1577")[0] == 1.0
    f1, precision, recall = token_f1("Ingrid Solheim inspected it [1].", "Ingrid Solheim")
    assert (precision, recall) == (0.5, 1.0) and f1 == pytest.approx(2 / 3)
    assert token_f1("", "") == (1.0, 1.0, 1.0) and token_f1("x", "") == (0.0, 0.0, 0.0)
    assert token_f1("blue", "red")[0] == 0.0


def test_score_answer_picks_the_method_and_applies_the_threshold():
    numeric = score_answer("It cost $1,577.", "$1,577.00")
    assert numeric["method"] == "number" and numeric["correct"] is True
    text = "Lunch is served on level 2 between 11:30 and 13:30 in the cafeteria by staff."
    assert score_answer("Ingrid Solheim", "Ingrid Solheim", f1_threshold=0.9)["correct"] is True
    partial = score_answer("Solheim did it yesterday", "Ingrid Solheim")
    assert partial["method"] == "f1" and partial["f1"] == pytest.approx(0.3333, abs=1e-4) and not partial["correct"]
    assert score_answer("Solheim did it yesterday", "Ingrid Solheim", f1_threshold=0.3)["correct"]
    long = score_answer("The crane was inspected on a Monday by Ingrid Solheim of the port [1].", "Ingrid Solheim")
    assert long["correct"] is True  # holds every gold token
    assert (
        score_answer("The crane was inspected on a Monday by Ingrid Solheim of the port.", "Ingrid Solheim", contains=False)[
            "correct"
        ]
        is False
    )
    assert score_answer(text, "")["method"] == "none" and score_answer(text, None)["correct"] is None


def test_refusal_text_is_recognised():
    assert is_refusal("Not found in the documents.") and is_refusal(" not found in the documents [1]")
    assert is_refusal("No documents have been ingested yet, so there is nothing to answer from.")
    # one rule for the service and the evaluator: a short answer saying "not found in the documents" is a refusal
    assert is_refusal("The crane was inspected in March; the rest was not found in the documents.")
    assert not is_refusal("The crane was inspected in March by Ingrid Solheim [1].")


def test_gold_pages_from_page_or_evidence_pages():
    assert gold_pages({"doc": "pdfs/a.pdf", "page": 2}) == {("a.pdf", 2)}
    assert gold_pages({"doc": "a.pdf", "page": 9, "evidence_pages": [2, 3]}) == {("a.pdf", 2), ("a.pdf", 3)}
    assert gold_pages({"page": 4}) == {(None, 4)} and gold_pages({"question": "q"}) == set()


def test_citation_precision_and_recall_by_file_name_and_page():
    gold = {("a.pdf", 2), ("a.pdf", 3)}
    assert citation_scores([("a.pdf", 2)], gold) == {"precision": 1.0, "recall": 0.5}
    assert citation_scores([("dir/a.pdf", 2), ("a.pdf", 3)], gold) == {"precision": 1.0, "recall": 1.0}
    assert citation_scores([("b.pdf", 2), ("a.pdf", 2), ("a.pdf", 2)], gold) == {"precision": 0.5, "recall": 0.5}
    assert citation_scores([], gold) == {"precision": None, "recall": 0.0}
    assert citation_scores([("a.pdf", 2)], set()) == {"precision": 0.0, "recall": None}
    assert citation_scores([("any.pdf", 4)], {(None, 4)}) == {"precision": 1.0, "recall": 1.0}


def test_outcome_of_each_kind_of_answer():
    assert outcome(True, False, True) == "answered_correct"
    assert outcome(True, False, False) == "answered_wrong"
    assert outcome(True, True, False) == "refused"
    assert outcome(False, False, True) == "answered_wrong"  # answering an unanswerable question is wrong
    assert outcome(False, True, True) == "refused"


def test_refusal_accounting():
    rows = [
        {"answerable": True, "refused": False, "correct": True},
        {"answerable": True, "refused": False, "correct": False},
        {"answerable": True, "refused": True, "correct": False},
        {"answerable": True, "refused": False, "correct": True},
        {"answerable": False, "refused": True, "correct": True},
        {"answerable": False, "refused": False, "correct": False},
    ]
    s = refusal_summary(rows)
    assert s["outcomes"] == {
        "answerable": {"answered_correct": 2, "answered_wrong": 1, "refused": 1},
        "unanswerable": {"answered_correct": 0, "answered_wrong": 1, "refused": 1},
    }
    assert s["refusal_rate"] == round(2 / 6, 4) and s["refusal_accuracy"] == 0.5 and s["false_refusal_rate"] == 0.25
    assert refusal_summary([])["refusal_rate"] is None
    assert refusal_summary(rows[:2])["refusal_accuracy"] is None


def test_percentile_interpolates_like_numpy():
    data = [10, 20, 30, 40, 50]
    assert percentile(data, 50) == 30 and percentile(data, 95) == pytest.approx(48.0)
    assert percentile([7], 95) == 7 and percentile([], 50) is None
    assert percentile([4, 1, 3, 2], 50) == 2.5


def test_latency_summary_skips_missing_first_token_times():
    s = latency_summary([{"total_ms": 100.0}, {"total_ms": 300.0, "first_token_ms": 50.0}])
    assert s["total_ms"] == {"p50": 200.0, "p95": 290.0, "mean": 200.0, "n": 2}
    assert s["first_token_ms"]["n"] == 1 and "generation_ms" not in s
