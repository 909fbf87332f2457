import logging

from rag.answering.citations import best_quote, check_citations, resolve_citations
from rag.core.types import Hit


def hits(n: int) -> list[Hit]:
    texts = ["The crane was inspected on 14 March 2024. It is red.", "Lunch is served at noon.", "Nothing."]
    return [Hit(chunk_id=f"c{i}", doc_id="d", doc=f"doc{i}.pdf", page=i + 1, score=1.0, text=texts[i % 3]) for i in range(n)]


def test_valid_markers_map_to_their_sources():
    text, cites = resolve_citations("The crane was inspected on 14 March 2024 [1]. Lunch is at noon [2].", hits(3))
    assert text == "The crane was inspected on 14 March 2024 [1]. Lunch is at noon [2]."
    assert [(c.n, c.doc, c.page, c.chunk_id) for c in cites] == [(1, "doc0.pdf", 1, "c0"), (2, "doc1.pdf", 2, "c1")]
    assert cites[0].quote == "The crane was inspected on 14 March 2024."


def test_marker_pointing_to_no_source_is_removed_and_logged(caplog):
    with caplog.at_level(logging.WARNING):
        text, cites = resolve_citations("Lunch is at noon [2][7].", hits(2))
    assert text == "Lunch is at noon [2]."
    assert [c.n for c in cites] == [2]
    assert "[7]" in caplog.text


def test_grouped_and_worded_markers():
    text, cites = resolve_citations("Both say so [1, 2]. Also [Source 2].", hits(2))
    assert "[1][2]" in text and "[2]" in text
    assert [c.n for c in cites] == [1, 2]


def test_answer_without_markers_has_no_citations():
    text, cites = resolve_citations("Not found in the documents.", hits(2))
    assert text == "Not found in the documents." and cites == []


def test_best_quote_prefers_overlapping_sentence():
    chunk = "Staff grew to 240. The Oslo office moved in March 2019. Parking is free."
    assert best_quote(chunk, "The office moved in March 2019 [1]") == "The Oslo office moved in March 2019."


def test_marker_after_the_last_full_stop_belongs_to_that_sentence():
    chunk = "2. Leave\nEvery employee is entitled to 25 days of paid annual leave per calendar year."
    h = [Hit(chunk_id="c", doc_id="d", doc="h.pdf", page=2, score=1.0, text=chunk)]
    text, cites = resolve_citations("Every employee is entitled to 25 days of paid annual leave. [1]", h)
    assert text == "Every employee is entitled to 25 days of paid annual leave. [1]"
    assert cites[0].quote == "Every employee is entitled to 25 days of paid annual leave per calendar year."


def test_heading_numbers_do_not_become_sentences():
    from rag.answering.citations import split_sentences

    assert split_sentences("2. Leave\nStaff get 25 days. Up to 5 carry over.") == [
        "2. Leave",
        "Staff get 25 days.",
        "Up to 5 carry over.",
    ]


def test_check_keeps_supported_sentences_and_drops_the_rest():
    text, cites, dropped = check_citations(
        "The crane was inspected on 14 March 2024 [1]. It was inspected again on 2 May 2024 [1]. Lunch is at noon [2].", hits(3)
    )
    assert text == "The crane was inspected on 14 March 2024 [1]. Lunch is at noon [2]."
    assert dropped == ["It was inspected again on 2 May 2024."]
    assert [(c.n, c.chunk_id) for c in cites] == [(1, "c0"), (2, "c1")]
    assert all(0.5 <= c.support <= 1 for c in cites)


def test_check_cites_the_source_backing_an_uncited_sentence_or_drops_it():
    text, cites, dropped = check_citations("Lunch is served at noon. The CEO is Kari Nordmann.", hits(3))
    assert text == "Lunch is served at noon [2]." and dropped == ["The CEO is Kari Nordmann."]
    assert [c.n for c in cites] == [2]


def test_check_with_malformed_markers():
    text, cites, dropped = check_citations("Lunch is at noon [9]. The crane [x] is red [1, 7].", hits(2))
    assert text == "Lunch is at noon [2]. The crane [x] is red [1]."  # [9] removed, best source found instead
    assert {c.n for c in cites} == {1, 2} and dropped == []


def test_check_of_a_citation_to_the_wrong_source_drops_the_sentence():
    text, cites, dropped = check_citations("Lunch is served at noon [1].", hits(2))
    assert text == "" and cites == [] and dropped == ["Lunch is served at noon."]


def test_a_bare_number_is_no_answer_unless_its_source_says_what_it_is():
    from rag.answering.fragments import fragment

    question = "What were the total restructuring costs?"
    elsewhere = [Hit(chunk_id="c", doc_id="d", doc="r.pdf", page=4, score=1.0, text="In Europe 609 employees left.")]
    for answer in ("609 [1].", "About 609 [1]."):
        text, cites, dropped = check_citations(answer, elsewhere, question)
        assert text == "" and cites == [] and dropped, answer
    assert fragment("609 employees [1]") is None  # says what the number counts
    # the source states the number beside the question's words: the answer becomes the source's sentence
    stated = [Hit(chunk_id="c", doc_id="d", doc="r.pdf", page=4, score=1.0, text="Total restructuring costs were $609 million.")]
    for answer in ("609 [1].", "$609 million [1]", "About 609 million [1]."):
        text, cites, dropped = check_citations(answer, stated, question)
        assert text == "Total restructuring costs were $609 million [1]." and cites and not dropped, answer
    # a table row: its label names the number
    row = [
        Hit(chunk_id="c", doc_id="d", doc="r.pdf", page=4, score=1.0, text="(Millions) | 2022\nTotal restructuring costs | 609")
    ]
    text, _, _ = check_citations("609 [1]", row, question)
    assert text == "Total restructuring costs: 609 [1]."
    text, _, _ = check_citations("Total restructuring costs were $609 million [1].", stated, question)
    assert text == "Total restructuring costs were $609 million [1]."


def test_a_heading_with_no_subject_is_no_answer():
    from rag.answering.fragments import fragment

    h = [Hit(chunk_id="c", doc_id="d", doc="r.pdf", page=4, score=1.0, text="Total Restructuring Costs\nSeverance | 609")]
    text, cites, dropped = check_citations("Total Restructuring Costs [1].", h, "What were the total restructuring costs?")
    assert text == "" and cites == [] and dropped == ["Total Restructuring Costs."]
    # a heading that does not restate the question, answering a question that asks for a number
    assert fragment("Restructuring and Other Charges", "How much did restructuring cost?") == "a heading"
    # a name answering a question about who: an answer
    assert fragment("Ingrid Solheim", "Who inspected the harbour crane?") is None
    assert fragment("Consumer Health", "Which segment had the highest revenue?") is None


def test_a_bare_number_from_a_row_the_question_names_is_written_with_its_label():
    """FinanceBench-style: a long question with instructions after it; the model answers with the bare figure."""
    from rag.answering.fragments import named_number

    question = (
        "What is the year end FY2019 total amount of inventories for Best Buy? Answer in USD millions. "
        "Base your judgment on the information provided primarily in the balance sheet."
    )
    sheet = (
        "($ in millions) | February 2, 2019 | February 3, 2018\n"
        "Cash and cash equivalents | 849 | 1,101\nMerchandise inventories | 5,409 | 5,209"
    )
    h = [Hit(chunk_id="c", doc_id="d", doc="bestbuy.pdf", page=52, score=1.0, text=sheet)]
    text, cites, dropped = check_citations("5,409 [1]", h, question)
    assert text == "Merchandise inventories: 5,409 [1]." and cites[0].page == 52 and not dropped
    assert named_number("849 [1]", [sheet], question) is None  # a row the question does not name
    text, _, dropped = check_citations("849 [1]", h, question)
    assert text == "" and dropped == ["849"]
