"""The glossary: terms a question uses that the answering pages do not ("quick ratio"), what they are made of, a
glossary file of one's own with clear errors, and the knowledge base searching for the parts."""

import json

import pytest

from rag.core.errors import BadInput
from rag.retrieval.glossary import Glossary
from tests.helpers.apps import make_app, put_pages


def test_a_term_named_in_the_question_is_expanded_with_what_it_is_made_of():
    g = Glossary.load(None)
    assert "total current liabilities" in g.expand("Has AMCOR's quick ratio improved between FY2022 and FY2023?")
    assert "purchases of property plant and equipment" in g.expand("Is 3M a capital-intensive business?")
    assert "total current assets" in g.expand("Does Corning have positive working capital?")
    both = g.expand("How did the gross margin and the operating margin change?")
    assert "gross profit" in both and "operating income" in both
    # the words must stand together, in order: "ratio" and "quick" apart are no quick ratio
    assert g.expand("How quick was the rise of the ratio?") == ""
    assert g.expand("Does open access increase the citation rate?") == ""


def test_a_glossary_of_ones_own_is_read_with_or_without_the_built_in_one(tmp_path):
    path = tmp_path / "terms.json"
    path.write_text(json.dumps([{"terms": ["PTO", "paid time off"], "means": "annual leave vacation days"}]))
    assert Glossary.load(path).expand("How much PTO do I get?") == "annual leave vacation days"
    assert "total current assets" in Glossary.load(path).expand("What is the current ratio?")
    assert Glossary.load(path, built_in=False).expand("What is the current ratio?") == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON file"),
        ('{"terms": ["a"]}', "expected a JSON list"),
        ('[{"terms": [], "means": "x"}]', "entry 0 needs a non-empty list of terms"),
        ('[{"terms": ["PTO"]}]', "entry 0 needs `means`"),
    ],
)
def test_a_broken_glossary_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "terms.json"
    path.write_text(content)
    with pytest.raises(BadInput, match=message):
        Glossary.load(path)


CHUNKS = [
    ("Liquidity", "Our liquidity remained strong and the quick ratio is discussed by analysts every quarter."),
    ("Consolidated Balance Sheets", "Cash and cash equivalents | 310 | 295\nTotal current liabilities | 1,200 | 1,100"),
    ("Risk Factors", "Competition may reduce our revenue."),
]


def test_the_knowledge_base_searches_for_the_parts_of_a_term_the_question_names(tmp_path):
    question = "How did Contoso's quick ratio change?"
    _, services = make_app(tmp_path / "on", retrieval={"max_per_page": 0})
    put_pages(services, "contoso-2022.pdf", CHUNKS)
    hits, timings = services.kb.search(question, 2)
    assert [h.page for h in hits] == [2, 1] and "glossary_ms" in timings  # the balance sheet states the parts
    _, off = make_app(tmp_path / "off", retrieval={"max_per_page": 0, "glossary_built_in": False})
    put_pages(off, "contoso-2022.pdf", CHUNKS)
    hits, timings = off.kb.search(question, 2)
    assert hits[0].page == 1 and "glossary_ms" not in timings
