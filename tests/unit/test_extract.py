import re

from rag.answering.extract import extract, units
from rag.core.types import Hit

TEXTS = [
    "Fleet maintenance\nThe harbour crane was inspected on 14 March 2024 by Ingrid Solheim. Crane inspections are "
    "repeated every 90 days.",
    "Site | Q1 | Q2\nOslo | 12 | 14\nBergen | 7 | 9\nTotal | 19 | 23",
    "The cafeteria on level 2 serves lunch between 11:30 and 13:30. Vegetarian dishes are offered every day.",
]


def hits() -> list[Hit]:
    return [Hit(chunk_id=f"c{i}", doc_id="d", doc="doc.pdf", page=i + 1, score=1.0, text=t) for i, t in enumerate(TEXTS)]


def test_units_are_sentences_and_table_rows_with_their_header():
    got = units(TEXTS[1])
    assert got[0] == ("Oslo | 12 | 14", "Site | Q1 | Q2") and got[1] == ("Bergen | 7 | 9", "Site | Q1 | Q2")
    assert [u for u, _ in units(TEXTS[0])][1:] == [
        "The harbour crane was inspected on 14 March 2024 by Ingrid Solheim.",
        "Crane inspections are repeated every 90 days.",
    ]


def test_quotes_are_verbatim_character_for_character():
    for question in [
        "Who inspected the harbour crane?",
        "What was the Q2 output in Bergen?",
        "When is lunch served?",
        "How often are cranes inspected?",
        "Oslo Q1",
    ]:
        quotes = extract(question, hits())
        assert quotes, question
        for q in quotes:
            assert q.text in TEXTS[q.n - 1]  # an exact substring: no character added, changed or dropped
            assert not q.header or q.header in TEXTS[q.n - 1]


def test_best_match_comes_first():
    assert extract("Who inspected the harbour crane?", hits())[0].text.startswith("The harbour crane was inspected")
    top = extract("What was the Q2 output in Bergen?", hits())[0]
    assert top.text == "Bergen | 7 | 9" and top.header == "Site | Q1 | Q2" and top.n == 2


def test_nothing_matching_gives_no_quotes():
    assert extract("What is the capital of France?", hits()) == []
    assert extract("", hits()) == [] and extract("crane", []) == []


def test_quote_count_is_bounded():
    assert len(extract("crane inspected lunch served Oslo", hits(), max_quotes=2)) <= 2
    assert all(re.search(r"\w", q.text) for q in extract("crane", hits()))


def test_focus_keeps_the_matching_lines_in_order_within_the_budget():
    from rag.answering.extract import question_relevant_part

    text = TEXTS[0] + "\n" + TEXTS[1]
    cut = question_relevant_part(text, "What was the Q2 output in Bergen?", 12)
    assert cut.splitlines() == ["...", "Site | Q1 | Q2", "...", "Bergen | 7 | 9", "..."]
    assert question_relevant_part(text, "anything", 0) == text and question_relevant_part("short text", "q", 50) == "short text"
    crane = question_relevant_part(text, "Who inspected the harbour crane?", 20)
    assert crane.startswith("...\nThe harbour crane was inspected on 14 March 2024 by Ingrid Solheim.")
    assert all(line == "..." or line in text for line in crane.splitlines())
