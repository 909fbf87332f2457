from rag.answering.grounding import name_phrases, names, number_found, numbers, support


def test_numbers_are_read_as_written():
    assert numbers("Capex was $1,577.00 in 2018 [2], down (370) or 4.5%.") == [1577.0, 2018.0, 370.0, 4.5]
    assert numbers("no digits here") == []


def test_a_number_may_change_unit_but_not_value():
    assert number_found(1.577, [1577.0])  # "1.577 billion" vs "1,577 million"
    assert number_found(45.0, [0.45])  # percent
    assert number_found(1577.0, [1577.3]) and number_found(1.58, [1577.0])  # rounded to what is written
    assert not number_found(1600.0, [1577.0]) and not number_found(2018.0, [2019.0])


def test_a_fabricated_number_is_caught():
    source = "The harbour crane was inspected on 14 March 2024 by Ingrid Solheim."
    assert support("The crane was inspected on 14 March 2024.", [source]).ok(0.5)
    bad = support("The crane was inspected on 19 March 2024.", [source])
    assert bad.missing_numbers == [19.0] and not bad.ok(0.5)


def test_only_what_the_sentence_adds_to_the_question_is_scored():
    source = "Lunch is served at noon in the canteen."
    result = support("The capital of France is Paris.", [source], question="What is the capital of France?")
    assert not result.ok(0.5) and result.missing_names == ["franc", "pari"]  # names must be in the source
    echo = support("The capital city.", [source], question="What is the capital city?")
    assert echo.score == 1.0  # adds nothing, claims nothing


def test_numbers_and_names_from_the_question_must_be_in_the_source():
    source = ["The plant made 455 GWh in 2019."]
    assert not support("In 2018 the plant made 455 GWh.", source, question="What did it make in 2018?").ok(0.5)
    asked = "What did the Fjordvik plant make in 2019?"
    assert not support("The Fjordvik plant made 455 GWh in 2019.", source, question=asked).ok(0.6)
    assert support("The Fjordvik plant made 455 GWh in 2019.", ["Fjordvik: " + source[0]], question=asked).ok(0.6)


def test_names_are_capitalised_words_inside_a_sentence():
    assert names("What was the FY2018 capex of Siemens and PepsiCo in the USA?") == {"siemen", "pepsico"}


def test_sentence_starts_are_not_names():
    assert names("Give a response. Using the cash flow statement, what did Oracle spend? If not, say so.") == {"oracl"}


def test_a_name_may_be_glued_into_the_document_name():
    asked = "How much has the effective tax rate of American Express changed?"
    claim = "The effective tax rate of American Express fell from 24.6 percent to 21.6 percent."
    source = ["The effective tax rate was 21.6 percent in 2022 and 24.6 percent in 2021."]
    assert support(claim, source, asked, titles=["AMERICANEXPRESS_2022_10K.pdf"]).ok(0.5)
    assert not support(claim, source, asked, titles=["BOEING_2022_10K.pdf"]).ok(0.5)


def test_a_terse_answer_still_needs_a_source_about_the_question_s_subject():
    asked = "How much did Oracle spend on capital expenditure in 2018?"
    source = ["Purchases of property and equipment were $465.7 million in 2018."]
    assert not support("$465.7 million.", source, asked, titles=["ADOBE_2018_10K.pdf"]).ok(0.5)
    assert support("$465.7 million.", source, asked, titles=["ORACLE_2018_10K.pdf"]).ok(0.5)


def test_names_come_in_phrases():
    assert name_phrases("Did Calder Pharma open a site in Oslo? Bergen said so.") == [["calder", "pharma"], ["oslo"]]


def test_a_name_shared_with_another_company_does_not_make_the_source_about_the_asked_one():
    asked = "How many employees did Zorvath Pharma have at the end of 2023?"
    source = ["Calder Pharma had 1,240 employees at the end of 2023."]
    assert not support("It had 1,240 employees [1].", source, asked).ok(0.5)
    assert support("It had 1,240 employees [1].", source, asked.replace("Zorvath", "Calder")).ok(0.5)
    # one whole name of the question is enough: the source need not repeat every place the question names
    in_oslo = "How many employees did Calder Pharma have in Oslo at the end of 2023?"
    assert support("It had 1,240 employees [1].", source, in_oslo).ok(0.5)
    # a document's kind glued to the name does not have to be written out in the source
    handbook = "According to Calder Pharma Employee Handbook, how many staff did it have at the end of 2023?"
    assert support("It had 1,240 employees [1].", source, handbook).ok(0.5)
