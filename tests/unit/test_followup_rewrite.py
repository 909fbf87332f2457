"""Follow-up questions rewritten into standalone ones (rag/conversation/rewrite.py): rules on many phrasings,
where the rules give way to the model, and the model's reply checked."""

import pytest

from rag.conversation.rewrite import (
    MODEL,
    RULES,
    UNCHANGED,
    Turn,
    model_messages,
    names_in,
    parse_model_reply,
    period_spans,
    rewrite_by_rules,
    subject_of,
    topic_of,
)

APPLE = "What was Apple's revenue in 2018?"
ALLOWANCE = "What is the daily meal allowance on business trips within Europe?"
PLANT = "What did the Fjordvik hydro plant produce in the fourth quarter?"
SIEMENS = "What were Siemens' total revenues in FY2020?"
LEAVE = "How many days of paid annual leave do employees get?"


def rewritten(previous: str, question: str) -> str | None:
    out = rewrite_by_rules(question, [Turn(previous, "an answer [1].")])
    return None if out is None else out.question


@pytest.mark.parametrize(
    "previous, question, expected",
    [
        # a period replaces the previous question's period
        (APPLE, "and in 2019?", "What was Apple's revenue in 2019?"),
        (APPLE, "And 2019?", "What was Apple's revenue in 2019?"),
        (APPLE, "2019?", "What was Apple's revenue in 2019?"),
        (APPLE, "what about 2017?", "What was Apple's revenue in 2017?"),
        (APPLE, "How about for FY2019?", "What was Apple's revenue for FY2019?"),
        (APPLE, "same for 2020?", "What was Apple's revenue in 2020?"),
        (APPLE, "and Q3 2019?", "What was Apple's revenue in Q3 2019?"),
        (PLANT, "and in the third quarter?", "What did the Fjordvik hydro plant produce in the third quarter?"),
        (PLANT, "and the first quarter?", "What did the Fjordvik hydro plant produce in the first quarter?"),
        (SIEMENS, "and FY2021?", "What were Siemens' total revenues in FY2021?"),
        (SIEMENS, "and in 2019 and 2020?", "What were Siemens' total revenues in 2019 and 2020?"),
        (LEAVE, "and in 2019?", "How many days of paid annual leave do employees get in 2019?"),
        ("What was revenue in the fourth quarter of 2019?", "and Q1 2020?", "What was revenue in Q1 2020?"),
        (APPLE, "and in 2019", "What was Apple's revenue in 2019?"),  # no question mark
        (APPLE, "AND IN 2019?", "What was Apple's revenue in 2019?"),
        (APPLE, "what about H1 2020?", "What was Apple's revenue in H1 2020?"),
        (APPLE, "ok, and for fiscal 2020?", "What was Apple's revenue for fiscal 2020?"),
        (APPLE, "and in March 2019?", "What was Apple's revenue in March 2019?"),
        # a name replaces the previous question's one name
        (APPLE, "and Microsoft?", "What was Microsoft's revenue in 2018?"),
        (APPLE, "What about Bank of America?", "What was Bank of America's revenue in 2018?"),
        (PLANT, "how about Nordhavn?", "What did the Nordhavn hydro plant produce in the fourth quarter?"),
        (ALLOWANCE, "and Asia?", "What is the daily meal allowance on business trips within Asia?"),
        # a phrase with a preposition replaces the phrase of the same kind, or is added
        (ALLOWANCE, "what about outside Europe?", "What is the daily meal allowance on business trips outside Europe?"),
        (ALLOWANCE, "and in Asia?", "What is the daily meal allowance on business trips in Asia?"),
        (ALLOWANCE, "for managers?", "What is the daily meal allowance on business trips within Europe for managers?"),
        (APPLE, "and for the services segment?", "What was Apple's revenue in 2018 for the services segment?"),
        # a noun phrase replaces the thing asked about
        (APPLE, "what about its margin?", "What was Apple's margin in 2018?"),
        (APPLE, "and the operating margin?", "What was Apple's operating margin in 2018?"),
        (APPLE, "and net income?", "What was Apple's net income in 2018?"),
        (ALLOWANCE, "and the hotel allowance?", "What is the hotel allowance on business trips within Europe?"),
        (SIEMENS, "and their net income?", "What were Siemens' net income in FY2020?"),
        ("What is the capacity of the Fjordvik plant?", "and the output?", "What is the output of the Fjordvik plant?"),
        # a comparison is added
        ("What was revenue in 2019?", "compared to 2018?", "What was revenue in 2019 compared to 2018?"),
        ("What was revenue in 2019?", "and versus 2017?", "What was revenue in 2019 versus 2017?"),
        # pronouns: "its"/"their" are the owner, "it"/"they" the thing asked about (or the one name)
        (APPLE, "What was its margin?", "What was Apple's margin?"),
        (APPLE, "How did it change in 2019?", "How did Apple's revenue change in 2019?"),
        (ALLOWANCE, "Is it paid in cash?", "Is the daily meal allowance paid in cash?"),
        (PLANT, "what was its capacity?", "What was Fjordvik's capacity?"),
        (PLANT, "Where is it located?", "Where is Fjordvik located?"),
        (SIEMENS, "How did they change in that year?", "How did Siemens' total revenues change in FY2020?"),
        (SIEMENS, "what was their outlook for the same period?", "What was Siemens' outlook for FY2020?"),
        ("Which products does Siemens sell?", "Where are they made?", "Where are Siemens made?"),
        # "that year" alone
        (APPLE, "What was the dividend in that year?", "What was the dividend in 2018?"),
        # a leading "and" before a complete question is dropped
        (APPLE, "And what are the core working hours?", "What are the core working hours?"),
        (APPLE, "also, how many employees work in Cupertino?", "How many employees work in Cupertino?"),
    ],
)
def test_rules_rewrite_follow_ups(previous, question, expected):
    out = rewrite_by_rules(question, [Turn(previous, "an answer [1].")])
    assert out is not None and out.method == RULES, out
    assert out.question == expected


@pytest.mark.parametrize(
    "question",
    [
        "What are the core working hours?",
        "How long does it take to get reimbursed?",
        "Is it possible to work from home on Fridays?",
        "Is it true that the Fjordvik plant closed?",
        "Which documents mention the meal allowance?",
        "How many GWh did the Nordhavn plant produce in 2020?",
    ],
)
def test_a_question_that_stands_alone_is_kept(question):
    out = rewrite_by_rules(question, [Turn(APPLE, "Apple's revenue was $265.6 billion [1].")])
    assert out is not None and out.method == UNCHANGED and out.question == question


def test_without_history_nothing_changes():
    out = rewrite_by_rules("and in 2019?", [])
    assert out is not None and (out.question, out.method) == ("and in 2019?", UNCHANGED)


@pytest.mark.parametrize(
    "previous, question",
    [
        ("Who runs the Fjordvik plant?", "When did she start?"),  # he/she: the answer is the subject
        ("Who runs the Fjordvik plant?", "How long has he been there?"),
        ("Who is the CEO of Siemens?", "what is its revenue?"),  # a "who" question: the answer is the subject
        ("How did Siemens compare with ABB in 2019?", "what was its margin?"),  # two names: which one?
        ("How did Siemens compare with ABB in 2019?", "and Philips?"),
        ("What was revenue in 2019 compared to 2018?", "and in 2020?"),  # two periods: which one?
        (APPLE, "What about that plant?"),  # "that plant": which one?
        (APPLE, "Is this correct?"),
        (APPLE, "why?"),  # a bare word and nothing to replace
        (LEAVE, "can they carry them over?"),  # "they": no name, no "what is the X" frame
        (LEAVE, "and?"),
        ("Summarise the travel policy.", "and its exceptions?"),
    ],
)
def test_what_rules_cannot_resolve_goes_to_the_model(previous, question):
    assert rewrite_by_rules(question, [Turn(previous)]) is None


def test_the_latest_standalone_question_is_the_context():
    history = [Turn(APPLE, "x"), Turn("What was Apple's revenue in 2019?", "y")]
    out = rewrite_by_rules("and in 2020?", history)
    assert out is not None and out.question == "What was Apple's revenue in 2020?"


def test_names_periods_and_topics_are_found():
    assert [n[2] for n in names_in("What did Bank of America's board say in Q3 2019 about EUR rates?")] == ["Bank of America"]
    assert [n[2] for n in names_in("What were Siemens' revenues in FY2020?")] == ["Siemens"]
    assert names_in("What is the daily meal allowance in March 2020?") == []
    spans = period_spans("revenue in 2018 and 2019 compared with the third quarter")
    assert len(spans) == 2
    assert topic_of(APPLE) == "Apple's revenue"
    assert topic_of(ALLOWANCE) == "the daily meal allowance"
    assert topic_of(LEAVE) is None
    assert subject_of(APPLE, owner=True) == "Apple" and subject_of(APPLE) == "Apple's revenue"
    assert subject_of("Who is the CEO of Siemens?") is None


def test_model_prompt_holds_the_conversation_and_the_question():
    history = [Turn("Who runs the Fjordvik plant?", "Ingrid Berg runs the plant [1]. " + "x" * 500)]
    messages = model_messages("When did she start?", history)
    assert messages[0]["role"] == "system" and "one line" in messages[0]["content"]
    user = messages[1]["content"]
    assert "Question: Who runs the Fjordvik plant?" in user and "Ingrid Berg runs the plant" in user
    assert "[1]" not in user and "x" * 301 not in user and user.endswith("Rewritten question:")
    assert "Last question: When did she start?" in user


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("When did Ingrid Berg start?", "When did Ingrid Berg start?"),
        ("Rewritten question: When did Ingrid Berg start?\nextra", "When did Ingrid Berg start?"),
        ('"when did Ingrid Berg start at the Fjordvik plant"', "When did Ingrid Berg start at the Fjordvik plant?"),
        ("", None),
        ("Sorry, I cannot tell.", None),
        ("x" * 400, None),
    ],
)
def test_the_models_reply_is_checked(reply, expected):
    out = parse_model_reply(reply, "When did she start?")
    assert (out.question if out else None) == expected
    if out:
        assert out.method == MODEL
