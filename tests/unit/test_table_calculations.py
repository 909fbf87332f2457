"""Calculations over table cells the question names (rag.answering.table_calculations), then checked and computed
by the answer's citation check as a model's calculation is."""

import pytest

from rag.answering.citations import check_answer
from rag.answering.table_calculations import table_calculation
from rag.core.types import Hit

STATEMENT = (
    "Consolidated Statements of Earnings\n($ in millions) | 2019 | 2018 | 2017\nRevenue | 43,638 | 42,151 | 39,403\n"
    "Total net sales | 69,575 | 70,848 | 68,210\nEffective tax rate | 21.0% | 18.9% | 44.9%\n"
    "Total current assets | 9,103 | 9,829 | 9,000\nTotal current liabilities | 8,060 | 8,868 | 8,000\n"
    "Net loss | (370) | (120) | 15\nNet income | 1,541 | 1,464 | 1,000"
)


def hits(*texts: str) -> list[Hit]:
    return [Hit(chunk_id=str(i), doc_id="d", doc="r.pdf", page=i, score=1.0, text=t) for i, t in enumerate(texts, 1)]


def answered(question: str, sources: list[Hit]) -> str | None:
    calc = table_calculation(question, sources)
    return check_answer(calc.draft, sources, question).text if calc else None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "What is the growth in total net sales from 2018 to 2019?",
            "Total net sales (2018 to 2019): growth(70,848 [1], 69,575 [1]) = -1.8%.",
        ),
        (
            "What is the year-over-year change in total net sales from FY2018 to FY2019, in percent?",
            "Total net sales (2018 to 2019): growth(70,848 [1], 69,575 [1]) = -1.8%.",
        ),
        (
            "What is the change in total net sales from 2017 to 2019?",
            "Total net sales (2017 to 2019): change(68,210 [1], 69,575 [1]) = 1,365.",
        ),
        (  # percentages change by percentage points
            "How much has the effective tax rate changed between FY2018 and FY2019?",
            "Effective tax rate (2018 to 2019): change(18.9% [1], 21.0% [1]) = 2.1 percentage points.",
        ),
        (
            "What is the average revenue from 2017 to 2019?",
            "Revenue (2017 to 2019): average(39,403 [1], 42,151 [1], 43,638 [1]) = 41,730.7.",
        ),
        (  # accounts' negatives in parentheses
            "How did the net loss change from 2018 to 2019?",
            "Net loss (2018 to 2019): change((120) [1], (370) [1]) = -250.",
        ),
        (
            "Define working capital ratio as total current assets divided by total current liabilities. "
            "What is the working capital ratio in 2019?",
            "Total current assets / Total current liabilities (2019): ratio(9,103 [1], 8,060 [1]) = 1.13.",
        ),
        (
            "What is the ratio of total current assets to total current liabilities for FY2018?",
            "Total current assets / Total current liabilities (2018): ratio(9,829 [1], 8,868 [1]) = 1.11.",
        ),
        (
            "What is revenue as a percentage of total net sales in 2017?",
            "Revenue / Total net sales (2017): share(39,403 [1], 68,210 [1]) = 57.8%.",
        ),
    ],
)
def test_the_cells_a_question_names_are_combined_and_computed(question, expected):
    assert answered(question, hits(STATEMENT)) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What was revenue in 2019?",  # one value: a lookup, not a calculation
        "How did revenue change?",  # no years
        "How did revenue change from 2019 to 2020?",  # no 2020 column
        "What is the average revenue from 2015 to 2019?",  # years missing
        "What is the growth in operating income from 2018 to 2019?",  # no such row
        "What is the ratio of revenue to revenue in 2019?",  # one row twice
        "What is the gross margin in 2019?",  # its parts are not named
        # rows are named in the sentence that asks: "Net income" is not the operating margin
        "What is the change in operating margin from 2018 to 2019? Use the statement of income.",
        # a change or an average inside a bigger formula, or an average of a ratio: the model's to write
        "What is the average revenue from 2017 to 2019 divided by total net sales in 2019?",
        "What is the 3 year average of revenue as a % of total net sales from 2017 to 2019?",
    ],
)
def test_questions_the_tables_do_not_answer_by_rule_get_none(question):
    assert table_calculation(question, hits(STATEMENT)) is None


def test_rows_are_taken_from_the_allowed_sources_only_and_may_come_from_two():
    assets = "Balance sheet\n(in millions) | 2019 | 2018\nTotal current assets | 9,103 | 9,829"
    debts = "Liabilities\n(in millions) | 2019 | 2018\nTotal current liabilities | 8,060 | 8,868"
    sources = hits("Nothing here.", assets, debts)
    question = "What is the ratio of total current assets to total current liabilities in 2019?"
    assert answered(question, sources) == (
        "Total current assets / Total current liabilities (2019): ratio(9,103 [2], 8,060 [3]) = 1.13."
    )
    assert table_calculation(question, sources, sources=[1, 2]) is None
