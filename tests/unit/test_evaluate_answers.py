"""Answer evaluation without models: rows and summary from made-up answers, the judge, the review page."""

import json
import re

import pytest

from ingest.evaluation.answers import error_row, gold_answer, load_questions, score_row, summarize
from ingest.evaluation.review_page import review_html
from rag.core.errors import BadInput
from rag.core.settings import GeneratorSettings
from rag.core.types import Answer, Calculation, Citation, ModelRef, Operand
from rag.evaluation.judge import Judge, judge_messages, make_judge, parse_verdict
from rag.generation.protocol import Generation


def answer(text, cites=(), refused=False, timings=None):
    citations = [Citation(n=i, doc=d, page=p, chunk_id=f"c{i}", quote=f"quote {i}") for i, (d, p) in enumerate(cites, 1)]
    return Answer(
        answer=text,
        refused=refused,
        citations=citations,
        hits=[],
        model=ModelRef(name="m"),
        timings_ms=timings or {"retrieval_ms": 5.0, "total_ms": 100.0},
    )


class FakeGenerator:
    name = "fake"

    def __init__(self, reply):
        self.reply, self.calls = reply, []

    def ref(self):
        return ModelRef(name="fake")

    def generate(self, messages, max_tokens, stop=None, on_token=None):
        self.calls.append(messages)
        return Generation(self.reply, 10, 1, 0.0, 0.0, 1.0)


QUESTIONS = [
    {"id": "capex", "question": "Capex in 2023?", "answer": "$1,577 million", "doc": "pdfs/a.pdf", "page": 2},
    {"id": "who", "question": "Who inspected the crane?", "answer": "Ingrid Solheim", "doc": "b.pdf", "evidence_pages": [1]},
    {"id": "ceo", "question": "Who is the CEO?", "answerable": False},
    {"id": "staff", "question": "How many staff?", "answer": "9,800", "doc": "b.pdf", "page": 3},
]


def rows(judge=None):
    return [
        score_row(1, QUESTIONS[0], answer("Capital expenditure was 1,577 million dollars [1].", [("a.pdf", 2)]), judge),
        score_row(
            2,
            QUESTIONS[1],
            answer(
                "Olaf Berg inspected it [1][2].",
                [("b.pdf", 1), ("b.pdf", 4)],
                timings={"total_ms": 300.0, "first_token_ms": 40.0},
            ),
            judge,
        ),
        score_row(3, QUESTIONS[2], answer("Not found in the documents."), judge),
        score_row(4, QUESTIONS[3], answer("Some text", refused=True), judge),
    ]


def test_rows_score_correctness_citations_and_refusals():
    r = rows()
    assert [x["outcome"] for x in r] == ["answered_correct", "answered_wrong", "refused", "refused"]
    assert [x["correct"] for x in r] == [True, False, True, False]
    assert [x["method"] for x in r] == ["number", "f1", "refusal", "number"]
    assert (r[0]["citation_precision"], r[0]["citation_recall"]) == (1.0, 1.0)
    assert (r[1]["citation_precision"], r[1]["citation_recall"]) == (0.5, 1.0)
    assert [c["right"] for c in r[1]["citations"]] == [True, False]
    assert r[0]["gold_pages"] == [{"doc": "a.pdf", "page": 2}] and r[2]["gold_pages"] == []
    assert r[1]["timings_ms"] == {"total_ms": 300.0, "first_token_ms": 40.0}


def test_summary_counts_the_trade_off_and_latency():
    s = summarize(rows() + [error_row(5, {"question": "x"}, "bad question")])
    assert (s["questions"], s["errors"], s["answerable"], s["unanswerable"], s["numeric"]) == (5, 1, 3, 1, 2)
    assert s["accuracy"] == round(1 / 3, 4) and s["accuracy_when_answered"] == 0.5
    assert s["outcomes"]["answerable"] == {"answered_correct": 1, "answered_wrong": 1, "refused": 1}
    assert s["outcomes"]["unanswerable"] == {"answered_correct": 0, "answered_wrong": 0, "refused": 1}
    assert s["refusal_rate"] == 0.5 and s["refusal_accuracy"] == 1.0 and s["false_refusal_rate"] == round(1 / 3, 4)
    assert s["citation_precision"] == 0.75 and s["citation_recall"] == 1.0
    assert s["latency_ms"]["total_ms"]["p50"] == 100.0 and s["latency_ms"]["first_token_ms"]["n"] == 1
    assert s["judge_accuracy"] is None


def test_judge_grades_only_answered_questions_with_a_gold_answer():
    gen = FakeGenerator("Correct.")
    r = rows(Judge(gen, "local"))
    assert [x["judge"] for x in r] == [True, True, None, None] and len(gen.calls) == 2
    assert "[1]" not in gen.calls[0][-1]["content"] and "$1,577 million" in gen.calls[0][-1]["content"]
    s = summarize(r)
    assert s["judge_accuracy"] == 1.0 and s["judge_agreement"] == 0.5


@pytest.mark.parametrize(
    "reply, verdict",
    [
        ("correct", True),
        ("Incorrect.", False),
        ("The answer is not correct", False),
        ("wrong", False),
        ("I cannot tell", None),
        ("", None),
    ],
)
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) is verdict


def test_judge_messages_hold_question_gold_and_answer():
    user = judge_messages("Q?", "gold", "the answer [2].")[-1]["content"]
    assert "Question: Q?" in user and "Reference answer: gold" in user and "Answer to grade: the answer ." in user


def test_make_judge_choices():
    gen, settings = FakeGenerator("correct"), GeneratorSettings()
    assert make_judge("none", gen, settings, None) is None
    assert make_judge("local", gen, settings, None).generator is gen
    with pytest.raises(BadInput, match="judge-endpoint"):
        make_judge("openai", gen, settings, None)
    with pytest.raises(BadInput, match="--judge takes"):
        make_judge("oracle", gen, settings, None)


def test_load_questions_validates_records(tmp_path):
    good = tmp_path / "q.jsonl"
    good.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n\n")
    assert [q["id"] for q in load_questions(good, limit=2)] == ["capex", "who"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"answer": "no question"}\n')
    with pytest.raises(BadInput, match="bad.jsonl:1"):
        load_questions(bad)
    assert gold_answer({"gold_answer": 5}) == "5" and gold_answer({"answer": ["a", "b"]}) == "a; b"


def test_review_page_escapes_every_text():
    planted = '</td><script>alert("x")</script><img src=x onerror=alert(1)>'
    r = rows()
    r[1]["answer"] = planted
    r[1]["question"] = 'Who said "hi" & <b>left</b>?'
    r[1]["citations"][0]["quote"] = "<script>bad()</script>"
    report = {"docs": "<docs>", "questions_file": "q.jsonl", "model": {"name": "m"}, "summary": summarize(r), "rows": r}
    page = review_html(report, title="<title>")
    assert page.count("<script>") == 1 and page.count("</script>") == 1  # only the page's own script
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "<img" not in page
    assert 'data-question="Who said &quot;hi&quot; &amp; &lt;b&gt;left&lt;/b&gt;?"' in page
    assert "&lt;docs&gt;" in page and "<title>&lt;title&gt;</title>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external assets
    assert page.count("<select") == len(r) and 'id="export"' in page


def test_rows_and_the_review_page_carry_the_calculations():
    calc = Calculation(
        expression="1,577 [1] / 32,765 [2] * 100",
        operands=[Operand(value=1577, text="1,577", citation=1, quote="Capex | <1,577>")],
        result=4.8,
        unit="%",
        text="4.8%",
        stated="3.5%",
        replaced=True,
    )
    a = answer("Capex was 4.8% of sales: 1,577 [1] / 32,765 [2] * 100 = 4.8%.", [("a.pdf", 2)])
    a.calculations = [calc]
    row = score_row(1, QUESTIONS[0], a)
    assert row["calculations"][0]["text"] == "4.8%" and row["calculations"][0]["replaced"]
    s = summarize([row, *rows()[1:]])
    assert s["calculations"] == 1 and s["calculations_replaced"] == 1
    report = {"docs": "d", "questions_file": "q.jsonl", "model": {"name": "m"}, "summary": s, "rows": [row]}
    page = review_html(report)
    assert "computed: 1,577 [1] / 32,765 [2] * 100 = <b>4.8%</b> (the model wrote 3.5%: replaced)" in page
    assert "1,577 [1]: Capex | &lt;1,577&gt;" in page


def test_citation_validity_is_kept_over_kept_plus_dropped():
    from ingest.evaluation.answers import _validity

    rows = [
        {"kept_sentences": 2, "dropped": ["x"]},
        {"kept_sentences": 0, "dropped": ["y", "z"]},
        {"kept_sentences": 1, "dropped": []},
    ]
    assert _validity(rows) == 0.5
    assert _validity([{"kept_sentences": 0, "dropped": []}]) is None


def test_false_refusals_say_who_refused_and_whether_the_evidence_page_was_a_source():
    from rag.core.types import Hit, TableLookup

    def refused(draft, pages):
        hits = [Hit(chunk_id=f"h{p}", doc_id="d", doc="b.pdf", page=p, score=1.0, text="t") for p in pages]
        return Answer(answer="Not found in the documents.", refused=True, citations=[], hits=hits, draft=draft)

    staff = QUESTIONS[3]  # gold: b.pdf page 3
    by_model = score_row(1, staff, refused("Not found in the documents.", [3, 5]))
    by_check = score_row(2, staff, refused("There are 9,800 staff [1].", [5]))
    by_retrieval = score_row(3, staff, refused(None, [3]))
    assert [r["refused_by"] for r in (by_model, by_check, by_retrieval)] == ["model", "check", "retrieval"]
    assert [r["evidence_in_sources"] for r in (by_model, by_check, by_retrieval)] == [True, False, True]
    looked = answer("Staff (2023): 9,800 [1]", [("b.pdf", 3)])
    looked.lookup = TableLookup(n=1, label="Staff", column="2023", value="9,800")
    read = score_row(4, staff, looked)
    assert read["refused_by"] is None and read["lookup"]["value"] == "9,800"
    s = summarize([by_model, by_check, by_retrieval, read])
    assert s["false_refusals"] == {
        "model": {"refused": 1, "evidence_in_sources": 1},
        "check": {"refused": 1, "evidence_in_sources": 0},
        "retrieval": {"refused": 1, "evidence_in_sources": 1},
    }
    assert (s["lookups"], s["lookups_correct"], s["evidence_in_sources"]) == (1, 1, 2)  # the lookup kept no hits
