"""`rag eval retrieval` and `rag eval pages` on small generated data (the real pipeline and models)."""

import json

import pytest

from ingest.evaluation.retrieval import eval_beir, eval_pages
from rag.service.services import Services
from tests.helpers import docgen
from tests.helpers.models import make_settings

pytestmark = pytest.mark.slow

TOPICS = {
    "d1": ("Volcanic ash and aviation", "Fine volcanic ash damages jet engines by melting inside the combustion chamber."),
    "d2": ("Coral bleaching", "Coral reefs bleach when sea temperatures stay above the summer maximum for weeks."),
    "d3": ("Honeybee navigation", "Honeybees communicate the direction of food sources with a waggle dance."),
    "d4": ("Sourdough fermentation", "Lactic acid bacteria in sourdough lower the pH and give the bread its sour taste."),
    "d5": ("Glacier retreat", "Alpine glaciers lost about 10 percent of their volume between 2021 and 2023."),
}
QUERIES = {
    "q1": ("Why is volcanic ash dangerous for airplanes?", "d1"),
    "q2": ("What makes sourdough bread taste sour?", "d4"),
    "q3": ("How do bees tell each other where flowers are?", "d3"),
}


def test_beir_evaluation_scores_each_mode(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({"_id": k, "title": t, "text": x}) for k, (t, x) in TOPICS.items()))
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps({"_id": k, "text": q}) for k, (q, _) in QUERIES.items()))
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{k}\t{d}\t1\n" for k, (_, d) in QUERIES.items()))
    services = Services(make_settings(tmp_path / "data"))
    result = eval_beir(services, corpus, queries, qrels)
    assert result["documents"] == 5 and result["queries"] == 3
    assert set(result["modes"]) == {"dense", "lexical", "hybrid"}
    assert result["modes"]["dense"]["ndcg@10"] == 1.0 and result["modes"]["hybrid"]["recall@10"] == 1.0
    assert services.settings.retrieval.mode == "hybrid"  # restored


def test_page_evaluation_finds_evidence_pages(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    docgen.simple_pdf(
        docs / "a.pdf",
        [
            ("Intro", ["General remarks about the company."]),
            ("Capital expenditure", ["Capital expenditure in 2023 was 1,577 million dollars."]),
        ],
    )
    docgen.simple_pdf(docs / "b.pdf", [("Staff", ["The company employed 9,800 people at year end."])])
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"question": "What was the capital expenditure in 2023?", "doc": "pdfs/a.pdf", "page": 2, "evidence_pages": [2]},
                {"question": "How many people did the company employ?", "doc": "pdfs/b.pdf", "page": 1},
            ]
        )
    )
    result = eval_pages(Services(make_settings(tmp_path / "data")), questions, docs, modes=("hybrid",))
    assert result["modes"]["hybrid"]["page_recall@1"] == 1.0 and result["pages"] == 3
