"""`rag eval answers` on two generated PDFs with known facts, the real pipeline and the real 0.5B model."""

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from ingest.evaluation.answers import eval_answers
from ingest.evaluation.review_page import review_html
from rag.evaluation.judge import make_judge
from rag.service.services import Services
from tests.helpers import docgen
from tests.helpers.models import MODELS_DIR, SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow

QUESTIONS = [
    {
        "id": "capex",
        "question": "What was the capital expenditure in 2023?",
        "answer": "$1,577 million",
        "doc": "pdfs/a.pdf",
        "page": 2,
    },
    {
        "id": "crane",
        "question": "Who inspected the harbour crane?",
        "answer": "Ingrid Solheim",
        "doc": "b.pdf",
        "evidence_pages": [1],
    },
    {"id": "ceo", "question": "What is the name of the chief executive's dog?", "answerable": False},
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval-answers")
    docs = root / "docs"
    docs.mkdir()
    docgen.simple_pdf(
        docs / "a.pdf",
        [
            ("Intro", ["General remarks about the company and its harbour."]),
            ("Capital expenditure", ["Capital expenditure in 2023 was 1,577 million dollars."]),
        ],
    )
    docgen.simple_pdf(docs / "b.pdf", [("Fleet maintenance", ["The harbour crane was inspected by Ingrid Solheim."])])
    questions = root / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    return root, docs, questions


def in_range(value):
    return value is None or 0.0 <= value <= 1.0


def test_eval_answers_scores_every_question(corpus):
    root, docs, questions = corpus
    services = Services(make_settings(root / "data"))
    judge = make_judge("local", services.generator, services.settings.generator, services.registry)
    seen = []
    result = eval_answers(services, questions, docs, judge=judge, k=3, on_answer=lambda i, n, row: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert result["files"]["ok"] == 2 and result["pages"] == 3 and result["model"]["name"] == SMALL_MODEL
    assert result["judge"]["kind"] == "local" and result["settings"]["top_k"] == 3
    s = result["summary"]
    assert (s["questions"], s["answerable"], s["unanswerable"], s["numeric"], s["errors"]) == (3, 2, 1, 1, 0)
    for key in (
        "accuracy",
        "accuracy_when_answered",
        "citation_precision",
        "citation_recall",
        "refusal_rate",
        "refusal_accuracy",
        "false_refusal_rate",
        "judge_accuracy",
        "judge_agreement",
    ):
        assert in_range(s[key]), (key, s[key])
    assert sum(sum(v.values()) for v in s["outcomes"].values()) == 3
    assert sum(s["outcomes"]["unanswerable"].values()) == 1
    assert 0 < s["latency_ms"]["total_ms"]["p50"] <= s["latency_ms"]["total_ms"]["p95"]
    rows = {r["id"]: r for r in result["rows"]}
    assert rows["capex"]["method"] == "number" and rows["crane"]["method"] == "f1" and rows["ceo"]["method"] == "refusal"
    assert rows["ceo"]["correct"] is rows["ceo"]["refused"]
    for r in result["rows"]:
        assert r["error"] is None and r["answer"].strip() and r["outcome"] in ("answered_correct", "answered_wrong", "refused")
        assert {c["doc"] for c in r["citations"]} <= {"a.pdf", "b.pdf"}
        assert in_range(r["citation_precision"]) and in_range(r["citation_recall"])
        assert r["judge"] in (True, False, None) and r["timings_ms"]["total_ms"] > 0
    json.dumps(result)  # the report is plain JSON
    page = review_html(result)
    assert page.count("<select") == 3 and "Ingrid Solheim" in page


def test_cli_reuses_the_data_dir_and_writes_both_reports(corpus, monkeypatch):
    root, docs, questions = corpus
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("RAG_GENERATOR__MODEL", SMALL_MODEL)
    monkeypatch.setenv("RAG_GENERATOR__N_CTX", "2048")
    out, html = root / "report.json", root / "review.html"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "answers",
            "--questions",
            str(questions),
            "--docs",
            str(docs),
            "--limit",
            "1",
            "--out",
            str(out),
            "--html",
            str(html),
            "--data-dir",
            str(root / "data"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["files"] == {"ok": 0, "skipped": 2, "failed": 0}  # ingested by the test above: reused
    assert report["summary"]["questions"] == 1 and report["judge"] is None
    assert "accuracy" in result.output and "refusal" in result.output and "total_ms" in result.output
    assert html.read_text().count("<select") == 1
