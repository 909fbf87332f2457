"""Table lookups: which rows a question names, which column its period picks, and what is no lookup."""

from rag.answering.lookup import asks_lookup, lookup, tables
from rag.core.types import Hit

STATEMENT = (
    "NIKE, INC.\nCONSOLIDATED BALANCE SHEETS\n"
    "(Dollars in millions) |  | 2019 | 2018\n"
    "ASSETS |  |  | \n"
    "Cash and equivalents | $ | 4,466 $ | 4,249\n"
    "Inventories |  | 5,622 | 5,261\n"
    "Total current assets |  | 16,525 | 15,134\n"
    "Total |  | 23,717 | 22,536"
)


def hit(text: str) -> Hit:
    return Hit(chunk_id="c", doc_id="d", doc="nike.pdf", page=54, score=1.0, text=text)


def test_header_rows_are_the_leading_rows_without_figures():
    (table,) = tables(STATEMENT)
    assert table.headers == [["(Dollars in millions)", "", "2019", "2018"], ["ASSETS", "", "", ""]]
    assert table.lines[0] == "Cash and equivalents | $ | 4,466 $ | 4,249"
    assert table.above == ["NIKE, INC.", "CONSOLIDATED BALANCE SHEETS"]


CASH_FLOWS = (
    "CONSOLIDATED STATEMENTS OF CASH FLOWS\n(In thousands)\n2020\nYear Ended December 31, 2019\n2018\n"
    "Cash flows from operating activities: |  |  |  |  | \n"
    "Net cash provided by operating activities | 381,603 |  | 465,699 |  | 295,080"
)


def test_years_left_as_text_above_a_table_head_its_columns_when_they_are_as_many_as_its_figures():
    question = "How much did Square generate in cash flow from operating activities in FY2019?"
    found = lookup(question, [hit(CASH_FLOWS)])  # "net" and "provided" may be left out; "cash" cannot
    assert (found.label, found.column, found.value, found.scale) == (
        "Net cash provided by operating activities", "2019", "465,699", "in thousands"
    )  # fmt: skip
    two_years = CASH_FLOWS.replace("\n2018\n", "\n")  # two years over three figures: no column is sure
    assert lookup(question, [hit(two_years)]) is None
    assert lookup("How much was generated from operating activities in 2019?", [hit(CASH_FLOWS)]) is None


def test_the_row_the_question_names_under_the_year_it_names():
    found = lookup("How much total current assets did Nike have at the end of FY2019?", [hit(STATEMENT)])
    assert (found.label, found.column, found.value, found.scale) == (
        "Total current assets",
        "2019",
        "16,525",
        "in millions",
    )
    assert found.row == "Total current assets |  | 16,525 | 15,134" and found.n == 1
    assert lookup("What was the cash and equivalents balance in 2018?", [hit(STATEMENT)]).value == "4,249"  # "4,466 $" aligned


def test_the_most_specific_row_wins_and_generic_labels_name_nothing():
    # "Inventories" and "Total current assets" are both named; the longer label says more
    found = lookup("What were total current assets, inventories included, in 2019?", [hit(STATEMENT)])
    assert found.label == "Total current assets"
    assert lookup("What is the total amount for 2019?", [hit(STATEMENT)]) is None  # "Total" alone


def test_a_row_is_not_named_by_words_the_question_makes_another_line_item():
    income = (
        "Statement of income\n(in millions) | 2019 | 2018\nRevenue | 900 | 800\nCost of revenue | 500 | 450\n"
        "Net income | 130 | 120"
    )
    assert lookup("What was operating income in 2019?", [hit(income)]) is None  # a qualifier
    assert lookup("What was the cost income in 2019?", [hit(income)]) is None  # another row's word
    assert lookup("What was Nike's net income in 2019?", [hit(income)]).value == "130"  # a name before it is no qualifier
    assert lookup("What were Best Buy inventories in 2019?", [hit(STATEMENT)]).value == "5,622"


def test_no_lookup_for_derived_values_other_years_missing_rows_or_excluded_sources():
    assert lookup("What is the ratio of inventories to total current assets in 2019?", [hit(STATEMENT)]) is None
    assert lookup("How much did inventories grow between 2018 and 2019?", [hit(STATEMENT)]) is None
    assert lookup("What were inventories in 2017?", [hit(STATEMENT)]) is None
    assert lookup("What was goodwill in 2019?", [hit(STATEMENT)]) is None
    assert lookup("What were inventories in 2019?", [hit(STATEMENT)], sources=[2]) is None
    assert lookup("What were inventories in 2019?", [hit("Inventories were 5,622 in 2019.")]) is None  # prose


def test_which_questions_ask_for_one_value():
    assert asks_lookup("What was Nike's FY2019 net income?")
    assert asks_lookup("How much cash did it hold?")
    assert not asks_lookup("Does Nike have an improving gross margin profile?")
    assert not asks_lookup("What is the FY2019 fixed asset turnover ratio?")
    assert not asks_lookup("What is the year-over-year change in revenue (in %)?")


def test_the_scale_is_the_nearest_unit_stated_not_the_line_stating_it():
    text = (
        "The following table summarizes our cash flow activities (in thousands):\n"
        "Year Ended December 31, 2020\n2019\n"
        "Net cash provided by operating activities | $ | 381,603 | $ | 465,699"
    )
    found = lookup("How much cash was generated from operating activities in 2020?", [hit(text)])
    assert found.text == "Net cash provided by operating activities (2020): 381,603 (in thousands) [1]"
