"""Verified calculations: the safe evaluator, the form an answer writes them in, operands checked against the sources
cited for them, the result computed and written by the service, and 200 generated answers with known truth."""

import pytest

from rag.answering.arithmetic import MAX_CHARS, CalculationError, evaluate
from rag.answering.calculations import SourceNumbers, asked_decimals, asks_about_years, calculations_in, find
from rag.answering.citations import check_answer
from rag.core.types import Hit
from tests.helpers.calc_cases import KINDS, cases, judge


def hits(*texts: str, doc: str = "acme_2018_10k.pdf") -> list[Hit]:
    return [Hit(chunk_id=f"c{i}", doc_id="d", doc=doc, page=i + 1, score=1.0, text=t) for i, t in enumerate(texts)]


SOURCES = hits(
    "Acme revenue was $32,765 million in 2018.",
    "Consolidated Statement of Cash Flows (in millions)\nCapital expenditures | 1,577 | 1,373\nRestructuring | (370) | 120",
    "Gross margin was 45.5% in 2018 and 44.1% in 2017.",
    "Net sales of the Europe segment were $1.5 billion.",
)
SHARE = "What share of revenue was capital expenditure in 2018?"


def calc(sentence: str, question: str = SHARE, sources: list[Hit] = SOURCES):
    return calculations_in(sentence, SourceNumbers(sources), question)


# --- the evaluator ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, value, kind",
    [
        ("(1,577 / 32,765) * 100", 4.813062719, "percent"),
        ("1,577 / 32,765", 0.048130627, "ratio"),
        ("(1,400 - 1,250) * 100 / 1,250", 12.0, "percent"),
        ("growth(1,250, 1,400)", 12.0, "percent"),
        ("change(1,250, 1,400)", 150.0, "amount"),
        ("ratio(1,400, 1,250)", 1.12, "ratio"),
        ("share(1,577, 32,765)", 4.813062719, "percent"),
        ("sum(1,400; 1,250; 1,350)", 4000.0, "amount"),
        ("average(1,400, 1,250, 1,300)", 1316.666666667, "amount"),
        ("avg(45.5%, 44.1%)", 44.8, "percent"),
        ("mean(2, 4)", 3.0, "amount"),
        ("(370) + 500", 130.0, "amount"),
        ("-370 + 500", 130.0, "amount"),
        ("500 - (370)", 870.0, "amount"),
        ("32,765 × 4.5%", 1474.425, "amount"),
        ("45.5% - 44.1%", 1.4, "percent"),
        ("4.5% / 100 * 32,765", 1474.425, "amount"),
        ("1,000 ÷ 8", 125.0, "ratio"),  # two amounts: a ratio
    ],
)
def test_arithmetic(expression, value, kind):
    result = evaluate(expression)
    assert result.value == pytest.approx(value) and result.kind == kind


def test_units_millions_and_billions_are_converted():
    result = evaluate("$1.5 billion + 1,577 million")
    assert (
        result.quantity.value == pytest.approx(3.077e9) and result.quantity.scale == 1e6 and result.value == pytest.approx(3077)
    )
    assert evaluate("1,577 million / 32.765 billion * 100").value == pytest.approx(4.813, abs=1e-3)


def test_percent_and_fraction():
    assert evaluate("32,765 * 4.5%").value == pytest.approx(1474.425)  # a percentage of an amount
    assert evaluate("32,765 * 0.045").value == pytest.approx(1474.425)  # the same as a fraction
    assert evaluate("(45.5% - 44.1%)").quantity.points  # a difference of percentages: percentage points
    with pytest.raises(CalculationError, match="adds an amount to a percentage"):
        evaluate("4.5% + 1,577")
    with pytest.raises(CalculationError, match="mixes a percentage with an amount"):
        evaluate("1,577 * 100")  # an amount times 100 is no percentage
    with pytest.raises(CalculationError, match="percentage multiplied by 100"):
        evaluate("4.5% * 100")


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('os').system('ls')", "names are not allowed"),
        ("open('/etc/passwd')", "names are not allowed"),
        ("revenue / 2", "names are not allowed"),
        ("x + 1", "names are not allowed"),
        ("(1).real", "attributes are not allowed"),
        ("1.5.hex()", "attributes are not allowed"),
        ("2 ** 10", "exponents are not allowed"),
        ("9 ^ 99", "exponents are not allowed"),
        ("1 / 0", "division by zero"),
        ("1,577 / (1,250 - 1,250)", "division by zero"),
        ("growth(0, 5)", "division by zero"),
        ("1 + " * 200 + "1", f"longer than {MAX_CHARS} characters"),
        ("+".join(["1"] * 40), "more than 30 numbers"),
        ("(" * 13 + "1" + ")" * 13, "nested parentheses"),
        ("1234567890123456 + 1", "more than 15 digits"),
        ("1 +", "ends too early"),
        ("(1 + 2", "closing parenthesis"),
        ("1 2", "unexpected"),
        ("growth(1)", "growth takes 2 numbers"),
        ("", "empty"),
        ("1 @ 2", "unexpected character"),
        ("100", "nothing is computed"),
    ],
)
def test_the_evaluator_refuses_anything_but_arithmetic(expression, message):
    with pytest.raises(CalculationError, match=message):
        evaluate(expression)


# --- the form in an answer -------------------------------------------------------------------------------------


def test_a_calculation_is_found_with_its_markers_and_stated_result():
    (f,) = find("Capex was 4.9% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.9%.")
    assert f.expression == "1,577 [2] / 32,765 [1] * 100" and f.stated is not None and f.stated_text == "4.9%"
    assert f.stated.percent and f.stated.value == 4.9


@pytest.mark.parametrize(
    "sentence, expression, stated",
    [
        ("In 2022 1,400 [2] - 1,250 [1] = 150.", "1,400 [2] - 1,250 [1]", "150"),  # prose numbers before it
        ("Sales grew growth(1,250 [1], 1,400 [2]) = 12%.", "growth(1,250 [1], 1,400 [2])", "12%"),
        ("Capex (1,577 / 32,765 * 100 ≈ about 4.8%) [1][2].", "1,577 / 32,765 * 100", "4.8%"),
        ("The change was 1,373 [2] - 1,577 [2] = (204).", "1,373 [2] - 1,577 [2]", "(204)"),
        ("Sales were $1.5 billion [4] + 1,577 [2] = $3,077 million.", "$1.5 billion [4] + 1,577 [2]", "$3,077 million"),
        ("Margins moved 45.5% [3] - 44.1% [3] = 1.4 percentage points.", "45.5% [3] - 44.1% [3]", "1.4 percentage points"),
        ("Capex was 1,577 [2] / 32,765 [1] * 100 =.", "1,577 [2] / 32,765 [1] * 100", ""),  # no result written
    ],
)
def test_the_form_is_found_in_prose(sentence, expression, stated):
    (f,) = find(sentence)
    assert f.expression == expression and f.stated_text == stated


@pytest.mark.parametrize(
    "sentence",
    ["Revenue was $32,765 million [1].", "The ratio x = 5 [1].", "It rose 4.8% in 2018 [1].", "Pages 3-5 = the appendix."],
)
def test_prose_is_no_calculation(sentence):
    assert find(sentence) == []


def test_an_expression_that_does_not_parse_is_refused_not_computed_in_part():
    sentence = "(Capex was 1,577 [2] / 32,765 [1]) * 100 = 4.8%."
    (f,) = find(sentence)
    assert f.expression == "1,577 [2] / 32,765 [1]) * 100"
    with pytest.raises(CalculationError, match="unexpected"):
        calc(sentence)
    with pytest.raises(CalculationError, match="exponents"):
        calc("Capex was 1,577 [2] ** 2 = 2,486,929.")


def test_two_calculations_in_one_sentence():
    found = find("Capex rose 1,577 [2] - 1,373 [2] = 204, or growth(1,373 [2], 1,577 [2]) = 14.9%.")
    assert [f.expression for f in found] == ["1,577 [2] - 1,373 [2]", "growth(1,373 [2], 1,577 [2])"]


# --- operands checked against their sources --------------------------------------------------------------------


def test_each_operand_is_found_in_the_source_cited_for_it():
    out = calc("Capex was 4.8% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.8%.")
    (c,) = out.calculations
    assert [(o.text, o.value, o.citation, o.unit) for o in c.operands] == [
        ("1,577", 1577.0, 2, "million"),
        ("32,765", 32765.0, 1, "$ million"),
    ]
    assert c.operands[0].quote == "Capital expenditures | 1,577 | 1,373" and out.cited == [2, 1]
    assert c.result == 4.8 and c.unit == "%" and c.text == "4.8%" and not c.replaced


def test_an_operand_cited_to_a_source_that_does_not_write_it_is_refused():
    with pytest.raises(CalculationError, match=r"1,577 is not written in \[1\]"):
        calc("Capex was 4.8% of revenue: 1,577 [1] / 32,765 [1] * 100 = 4.8%.")
    with pytest.raises(CalculationError, match="1,580 is not written"):
        calc("Capex was 4.8% of revenue: 1,580 [2] / 32,765 [1] * 100 = 4.8%.")  # rounded: not what [2] writes


def test_an_operand_without_a_marker_must_be_in_a_source_the_sentence_cites():
    out = calc("Capex was 4.8% of revenue: (1,577 / 32,765) * 100 = 4.8% [1][2].")
    assert [o.citation for o in out.calculations[0].operands] == [2, 1]
    assert "(1,577 [2] / 32,765 [1]) * 100 = 4.8%" in out.text  # the service adds the markers it found
    with pytest.raises(CalculationError, match=r"1,577 is not written in \[1\]"):
        calc("Capex was 4.8% of revenue: (1,577 / 32,765) * 100 = 4.8% [1].")
    # a sentence citing nothing: any source, cited where found
    assert calc("Capex: 1,577 / 32,765 * 100 = 4.8%.").calculations[0].operands[1].citation == 1


def test_a_marker_after_a_parenthesis_cites_every_number_inside():
    out = calc("Capex grew (1,577 - 1,373) [2] / 1,373 [2] * 100 = 14.9%.")
    assert {o.citation for o in out.calculations[0].operands} == {2}


def test_a_year_is_never_an_operand_unless_the_question_asks_about_years():
    with pytest.raises(CalculationError, match="2018 is a year"):
        calc("It is 32,765 [1] / 2018 [1] = 16.2.")
    years = hits("The plant opened in 1998.", "It closed in 2018.")
    out = calc("It ran 2018 [2] - 1998 [1] = 20 years.", "How many years did the plant run?", years)
    assert out.calculations[0].result == 20
    assert asks_about_years("How long did it run?") and not asks_about_years("What was revenue growth year over year?")


def test_negative_numbers_in_parentheses():
    out = calc("Restructuring swung by 120 [2] - (370) [2] = 490.")
    assert out.calculations[0].result == 490 and out.calculations[0].operands[1].value == -370
    with pytest.raises(CalculationError, match=r"\(1,577\) is not written"):
        calc("Capex was (1,577) [2] + 120 [2] = -1,457.")  # the source writes it positive
    # a positive operand may be the amount a source writes in parentheses ("costs of 370")
    assert calc("Costs were 370 [2] + 120 [2] = 490.").calculations[0].result == 490


def test_scales_millions_and_billions():
    out = calc("Together 1,577 [2] + 1.5 billion [4] = 3,077 million.")
    c = out.calculations[0]
    assert c.result == 3077 and c.text == "3,077 million" and c.unit == "$ million"
    # the source's scale when the model writes none: 1.5 is billions in [4], 1,577 millions in [2]
    assert calc("Together 1,577 [2] + 1.5 [4] = 3,077 million.").calculations[0].result == 3077
    # a model's scale word that contradicts its source
    with pytest.raises(CalculationError, match="1,577 billion is not written"):
        calc("Together 1,577 billion [2] + 1.5 [4] = 3,077 billion.")
    # a figure rewritten in another scale, as precisely as written: 32.8 billion for $32,765 million
    assert calc("Capex was 1,577 [2] / 32.8 billion [1] * 100 = 4.8%.").calculations[0].result == 4.8
    # unknown scales with two known ones: refused
    mixed = hits("Revenue | 2018 | 32,765", "Capex was $1,577 million.", "Sales were $1.5 billion.")
    with pytest.raises(CalculationError, match="cannot tell the scale"):
        calc("It was 32,765 [1] + 1,577 [2] + 1.5 [3] = 35,842.", sources=mixed)


def test_percent_and_fraction_operands():
    # a percentage of an amount, written with its % sign
    out = calc("Gross profit was 32,765 [1] * 45.5% [3] = 14,908.1.", "What was gross profit?")
    assert out.calculations[0].result == pytest.approx(14908.1)
    # as its fraction
    assert calc("Gross profit was 32,765 [1] * 0.455 [3] = 14,908.1.", "What was gross profit?").calculations
    # without its % sign, multiplying an amount: refused (a mix-up by a factor of 100)
    with pytest.raises(CalculationError, match="without its % sign"):
        calc("Gross profit was 32,765 [1] * 45.5 [3] = 1,490,808.", "What was gross profit?")
    # a % sign on a number its source writes as a plain number
    with pytest.raises(CalculationError, match="1,577% is not written"):
        calc("It was 1,577% [2] - 1,373 [2] = 204.")


# --- the result, computed and written by the service ------------------------------------------------------------


def test_a_wrong_stated_result_is_replaced_and_counted():
    out = calc("Capex was 4.9% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.9%.")
    c = out.calculations[0]
    assert c.replaced and c.stated == "4.9%" and c.text == "4.8%"
    assert out.text == "Capex was 4.8% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.8%."


def test_a_result_agreeing_at_the_stated_precision_is_not_counted_but_written_precisely():
    out = calc("Capex was 5% of revenue: 1,577 [2] / 32,765 [1] * 100 = 5%.")
    assert not out.calculations[0].replaced and out.text == "Capex was 4.8% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.8%."


def test_a_missing_result_is_written_in():
    out = calc("Capex was 1,577 [2] / 32,765 [1] * 100 =.")
    assert out.text == "Capex was 1,577 [2] / 32,765 [1] * 100 = 4.8%." and out.calculations[0].stated is None


def test_precision_follows_the_operands_and_the_question():
    assert calc("Capex: 1,577 [2] / 32,765 [1] * 100 = 4.8%.", "... to two decimal places?").calculations[0].text == "4.81%"
    assert calc("Capex: 1,577 [2] / 32,765 [1] * 100 = 4.8%.", "... nearest whole percent?").calculations[0].text == "5%"
    assert calc("Ratio: 1,577 [2] / 1,373 [2] = 1.1.").calculations[0].text == "1.15"  # a ratio: two decimals
    assert calc("Ratio: 1,577 [2] / 1,373 [2] = 115%.").calculations[0].text == "114.9%"  # as the model wrote it
    assert calc("Avg: average(1,577 [2], 1,373 [2], 120 [2]) = 1,023.").calculations[0].text == "1,023.3"
    assert calc("Diff: 1,373 [2] - 1,577 [2] = (204).").calculations[0].text == "-204"
    assert asked_decimals("Round to one decimal place.") == 1 and asked_decimals("What was it?") is None


# --- the check of whole answers ----------------------------------------------------------------------------------


def test_a_verified_result_supports_its_sentence_and_the_answer_carries_the_calculation():
    checked = check_answer("Capital expenditure was 4.9% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.9%.", SOURCES, SHARE)
    assert checked.text == "Capital expenditure was 4.8% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.8%."
    assert [c.n for c in checked.citations] == [2, 1] and checked.dropped == []
    assert checked.calculations[0].replaced and checked.calculations[0].result == 4.8


def test_a_result_supports_the_same_number_in_another_sentence_but_no_other_number():
    answer = "Capital expenditure was 4.8% of revenue [1]. That is 1,577 [2] / 32,765 [1] * 100 = 4.8%."
    checked = check_answer(answer, SOURCES, SHARE)
    assert checked.text.startswith("Capital expenditure was 4.8% of revenue [1].") and not checked.dropped
    # without the calculation, 4.8 is written in no source
    unchecked = check_answer("Capital expenditure was 4.8% of revenue [1].", SOURCES, SHARE)
    assert unchecked.dropped == ["Capital expenditure was 4.8% of revenue."] and not unchecked.calculations
    # a number near the result but not it
    wrong = check_answer(
        "Capital expenditure was 5.8% of revenue [1]. That is 1,577 [2] / 32,765 [1] * 100 = 4.8%.", SOURCES, SHARE
    )
    assert wrong.dropped == ["Capital expenditure was 5.8% of revenue."]


def test_a_calculation_with_an_operand_in_an_uncited_source_is_dropped_like_an_unsupported_sentence():
    checked = check_answer("Capital expenditure was 4.8% of revenue: 1,577 [3] / 32,765 [1] * 100 = 4.8%.", SOURCES, SHARE)
    assert checked.text == "" and checked.citations == [] and checked.calculations == []
    assert checked.dropped == ["Capital expenditure was 4.8% of revenue: 1,577 / 32,765 * 100 = 4.8%."]


def test_the_words_around_a_calculation_are_still_checked():
    checked = check_answer("Zorvath Pharma spent 4.8% of revenue: 1,577 [2] / 32,765 [1] * 100 = 4.8%.", SOURCES, SHARE)
    assert checked.text == "" and checked.calculations == []  # a name no source writes


def test_a_calculation_alone_is_kept_its_operands_say_what_it_computes():
    # as the 1.5B model wrote it for 3M's capex share of FY2018 net sales (its 3.5% was wrong)
    h = hits(
        "Consolidated Statement of Cash Flows (Millions)\nPurchases of property, plant and equipment (PP&E) | (1,577) | (1,373)",
        "Consolidated Statement of Income (Millions)\nNet sales | 32,765 | 31,657",
        doc="3M_2018_10K.pdf",
    )
    question = "What share of 3M's FY2018 net sales was capital expenditure (purchases of PP&E)?"
    checked = check_answer("3.5%: (1,577 [1] / 32,765 [2]) * 100 = 3.5%.", h, question)
    assert checked.text == "4.8%: (1,577 [1] / 32,765 [2]) * 100 = 4.8%." and checked.calculations[0].replaced
    assert [o.quote[:9] for o in checked.calculations[0].operands] == ["Purchases", "Net sales"]
    # a number beside it is still checked
    assert check_answer("609: (1,577 [1] / 32,765 [2]) * 100 = 4.8%.", h, question).text == ""


def test_generated_answers_with_known_truth_accept_no_wrong_calculation():
    """200 answers (right, wrong arithmetic, wrong operand, operand from an uncited source, unit mix-ups): no wrong
    calculation is kept; every right one is, and every wrong arithmetic is corrected (bench/calc_checker.py prints
    the table)."""
    counts = {(kind, outcome): 0 for kind in KINDS for outcome in ("right", "dropped", "wrong")}
    for c in cases(200, seed=17):
        counts[(c.kind, judge(c, check_answer(c.answer, c.hits, c.question)))] += 1
    assert sum(v for (_, outcome), v in counts.items() if outcome == "wrong") == 0
    assert counts[("right", "right")] == 40 and counts[("wrong_arithmetic", "right")] == 40
    assert counts[("wrong_operand", "dropped")] == 40 and counts[("uncited_source", "dropped")] == 40
    assert counts[("unit_mixup", "right")] + counts[("unit_mixup", "dropped")] == 40


def test_amounts_of_unknown_scale_are_written_as_the_operands_are():
    table = hits("Net sales | 2022 | 1,250\nNet sales | 2023 | 1,400")
    out = calc("Net sales rose by 1,400 [1] - 1,250 [1] = 150 million.", "By how much did net sales rise?", table)
    c = out.calculations[0]
    assert c.text == "150 million" and not c.replaced and c.result == 150
    out = calc("Net sales rose by 1,400 [1] - 1,250 [1] = 160.", "By how much did net sales rise?", table)
    assert out.calculations[0].replaced and out.calculations[0].text == "150"
