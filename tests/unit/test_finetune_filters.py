"""The filters and small helpers of training-data synthesis (pure logic)."""

import random

from rag.finetune.data import cite_single, contextualize, parse_reply, row_lookup, split_of, subject_of
from rag.finetune.filters import Deduper, Limits, rare_terms, reject_reason, strip_marks

CHUNK = (
    "Employees of Alder Shipping receive 25 days of paid annual leave per calendar year. "
    "At most 5 unused days may be carried over into the next year."
)
OTHER = "The daily meal allowance is 55 EUR within Europe. Hotels may cost up to 150 EUR per night."


def test_a_backed_answer_passes():
    assert (
        reject_reason(
            "How many days of annual leave do Alder Shipping employees get?",
            "Alder Shipping employees receive 25 days of paid annual leave [1].",
            [CHUNK],
        )
        is None
    )


def test_planted_uncited_number_is_rejected():
    # 30 is written nowhere in the cited chunk
    assert (
        reject_reason(
            "How many days of annual leave do Alder Shipping employees get?",
            "They receive 30 days of paid annual leave [1].",
            [CHUNK],
        )
        == "number_not_in_source"
    )


def test_number_from_another_chunk_than_the_cited_one_is_rejected():
    assert (
        reject_reason("What is the meal allowance at Alder Shipping?", "The allowance is 55 EUR [1].", [CHUNK, OTHER])
        == "number_not_in_source"
    )


def test_planted_answer_absent_from_chunk_is_rejected():
    assert (
        reject_reason("Who leads Alder Shipping?", "Alder Shipping is led by Ingrid Haugen, its founder [1].", [CHUNK])
        == "answer_not_in_source"
    )


def test_answer_without_a_citation_or_with_a_missing_source_is_rejected():
    q = "How many days of annual leave do Alder Shipping employees get?"
    assert reject_reason(q, "Employees receive 25 days of paid annual leave.", [CHUNK]) == "uncited"
    assert reject_reason(q, "Employees receive 25 days of paid annual leave [2].", [CHUNK]) == "uncited"


def test_lengths_are_bounded():
    long_answer = " ".join(["leave"] * 90) + " [1]."
    assert reject_reason("How much leave?", "25 days [1].", [CHUNK]) == "length"  # question too short
    assert reject_reason("How many days of annual leave do employees get?", long_answer, [CHUNK]) == "length"


def test_vague_questions_and_answers_that_repeat_the_question_are_rejected():
    rare = rare_terms(
        {"a": "alder shipping leave 25 days", "b": "kestrel foods leave 22 days", "c": "umbra mining leave 30 days"}
    )
    vague = "How many days of annual leave do employees get?"
    assert reject_reason(vague, "25 days [1].", [CHUNK], rare=rare) == "vague_question"
    assert (
        reject_reason("What does the passage say about leave at Alder Shipping?", "25 days [1].", [CHUNK], rare=rare)
        == "vague_question"
    )
    assert reject_reason("Is leave 25 days at Alder Shipping?", "25 days [1].", [CHUNK], rare=rare) == "answer_in_question"
    assert (
        reject_reason("How many days of annual leave do Alder Shipping employees get?", "25 days [1].", [CHUNK], rare=rare)
        is None
    )


def test_rare_terms_are_those_few_documents_share():
    names = [
        a + b
        for a in ("alder", "umbra", "kestrel", "marlow", "tindra")
        for b in ("ton", "vik", "by", "holm", "stad", "berg", "dal", "lund")
    ]
    docs = {str(i): f"leave policy {name}" for i, name in enumerate(names)}
    rare = rare_terms(docs)
    assert "umbravik" in rare and "leave" not in rare and "policy" not in rare


def test_duplicates_are_per_document():
    d = Deduper(0.7)
    assert d.add("How many days of annual leave does Alder Shipping give?", "doc-a")
    assert not d.add("How many days of annual leave does Alder Shipping give employees?", "doc-a")
    assert d.add("How many days of annual leave does Alder Shipping give?", "doc-b")  # another document
    assert d.add("Who is the chief executive of Alder Shipping?", "doc-a")


def test_parse_reply():
    assert parse_reply("Question: Who leads Alder?\nAnswer: Ingrid Haugen [1].") == ("Who leads Alder?", "Ingrid Haugen [1].")
    assert parse_reply("**Question:** Who leads Alder?\n\n**Answer:** Ingrid [1]") is not None
    assert parse_reply("Here is a question about the passage.") is None
    assert parse_reply("Question: Tell me about leave\nAnswer: 25 days [1]") is None  # not a question


def test_contextualize_and_cite_single():
    assert (
        contextualize("What is the hotel limit?", "Alder Shipping Employee Handbook")
        == "According to Alder Shipping Employee Handbook, what is the hotel limit?"
    )
    assert contextualize("EBITDA margin in 2022?", "Acme").startswith("According to Acme, EBITDA")
    assert cite_single("Hotels may cost up to 150 EUR.", 1) == "Hotels may cost up to 150 EUR [1]."
    assert cite_single("150 EUR [1]", 1) == "150 EUR [1]"
    assert cite_single("150 EUR", 2) == "150 EUR"
    assert strip_marks("Hotels cost 150 EUR [1][2].") == "Hotels cost 150 EUR."


def test_subject_of_prefers_the_title():
    assert (
        subject_of({"heading": "Alder Shipping Employee Handbook > 3. Travel", "doc_name": "x.pdf"})
        == "Alder Shipping Employee Handbook"
    )
    assert subject_of({"heading": "", "doc_name": "umbra-mining_results.pdf"}) == "umbra mining results"


def test_row_lookup_names_row_and_column():
    chunk = {"text": "Segment | Q1 | Q2\nRetail | 120 | 95\nExport | 30 | 41", "heading": "Umbra Mining: revenue by segment"}
    q, a = row_lookup(chunk, random.Random(0))
    assert q.startswith("What is the Q") and "Umbra Mining" in q
    value = a.split(" is ")[1].split(" [")[0]
    row = [r for r in ("Retail", "Export") if r in q][0]
    col = 1 if "Q1" in q else 2
    truth = {"Retail": ["120", "95"], "Export": ["30", "41"]}[row][col - 1]
    assert value == truth and a.endswith("[1].")
    assert reject_reason(q, a, [chunk["text"]], Limits()) is None
    assert row_lookup({"text": "just prose"}, random.Random(0)) is None


def test_splits_are_stable_and_roughly_proportional():
    names = [f"doc-{i}.pdf" for i in range(2000)]
    splits = [split_of(n, (0.1, 0.15)) for n in names]
    assert splits == [split_of(n, (0.1, 0.15)) for n in names]
    assert 0.12 < splits.count("test") / 2000 < 0.18 and 0.07 < splits.count("val") / 2000 < 0.13


def test_swap_names_makes_a_question_about_no_one():
    from rag.finetune.data import swap_names

    rare = {"rask", "pharma", "umbra"}
    assert swap_names("How many people does Rask Pharma employ?", rare, set()) == "How many people does Zorvath Quellmere employ?"
    assert swap_names("What is Umbra's leave policy?", rare, {"zorvath"}) == "What is Quellmere's leave policy?"
    assert swap_names("How many days of leave do employees get?", rare, set()) is None


def test_heldout_questions_pair_each_answerable_test_question_with_a_swapped_twin():
    from rag.finetune.data import Example, heldout_questions

    def ex(q, split, answerable=True):
        return Example(
            id=q[:5],
            kind="fact",
            origin="teacher",
            question=q,
            target="",
            answer="28 days" if answerable else "",
            answerable=answerable,
            messages=[],
            sources=[],
            doc="rask.pdf",
            page=2,
            split=split,
        )

    examples = [
        ex("How many leave days does Rask Pharma give?", "test"),
        ex("How many leave days does Rask Pharma give?", "test", answerable=False),  # prompt-level only
        ex("Who leads Rask Pharma?", "train"),
    ]
    out = heldout_questions(examples, {"rask", "pharma"}, set())
    assert [(q["question"], q["answerable"]) for q in out] == [
        ("How many leave days does Rask Pharma give?", True),
        ("How many leave days does Zorvath Quellmere give?", False),
    ]


def test_training_twins_use_made_up_names_apart_from_the_held_out_list():
    from rag.finetune.data import INVENTED, made_up_name, swap_names

    rng = random.Random(3)
    names = [made_up_name(rng) for _ in range(8)]
    assert made_up_name(random.Random(3)) == names[0]  # seeded
    assert not set(names) & set(INVENTED) and all(n[0].isupper() and n[1:].islower() for n in names)
    twin = swap_names("Who leads Rask Pharma?", {"rask"}, set(), names)
    assert twin == f"Who leads {names[0]} Pharma?"
