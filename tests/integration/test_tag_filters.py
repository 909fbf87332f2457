"""Tag filters on the real embedder and BM25: a lower-ranked tagged chunk is found; re-ingesting updates tags."""

import pytest

from ingest.pipeline import Ingestor
from rag.core.types import Filters
from rag.service.services import Services
from tests.helpers import docgen
from tests.helpers.models import make_settings

pytestmark = pytest.mark.slow

STRONG = [
    "The cafeteria serves lunch from 11:30 to 13:30 on weekdays.",
    "Lunch in the cafeteria is served between 11:30 and 13:30.",
    "The staff cafeteria opens for lunch at 11:30 every weekday.",
    "Hot lunch is served in the cafeteria from half past eleven.",
    "Cafeteria lunch hours: 11:30-13:30, Monday to Friday.",
    "The cafeteria on level 2 serves lunch and coffee.",
]
TAGGED = "Catering invoices for the finance team's lunch meetings are paid within 30 days."


@pytest.fixture(scope="module")
def shared_embedder(tmp_path_factory):
    s = Services(make_settings(tmp_path_factory.mktemp("warm")))
    s.embedder.warm_up()
    return s.embedder


@pytest.fixture
def services(tmp_path, shared_embedder):
    s = Services(make_settings(tmp_path / "data"))
    s.__dict__["embedder"] = shared_embedder
    return s


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_tag_filter_finds_a_lower_ranked_chunk_the_unfiltered_top_k_misses(services, mode):
    ingestor = Ingestor(services)
    for i, text in enumerate(STRONG):
        ingestor.ingest_text(f"canteen-{i}", text, tags={"department": "facilities"})
    ingestor.ingest_text("invoices", TAGGED, tags={"department": "finance", "year": "2024"})
    cfg = services.settings.retrieval
    cfg.mode, cfg.candidates = mode, 3  # each retriever keeps only its top 3: the filter must act before that cut
    question = "When is lunch served in the cafeteria?"
    unfiltered, _ = services.kb.search(question, 3)
    assert len(unfiltered) == 3 and "invoices" not in {h.doc for h in unfiltered}
    cfg.candidates = 50
    everything, _ = services.kb.search(question, 7)
    assert [h.doc for h in everything].index("invoices") >= 3  # really ranked below the top 3
    cfg.candidates = 3
    hits, _ = services.kb.search(question, 3, filters=Filters(tags={"department": "finance"}))
    assert [h.doc for h in hits] == ["invoices"]
    both, _ = services.kb.search(question, 3, filters=Filters(tags={"department": "finance", "year": "2024"}))
    assert [h.doc for h in both] == ["invoices"]
    assert services.kb.search(question, 3, filters=Filters(tags={"department": "finance", "year": "2023"}))[0] == []


def test_reingesting_with_new_tags_updates_them_and_no_tags_keeps_them(services, tmp_path):
    path = docgen.simple_pdf(tmp_path / "budget.pdf", [("Budget", ["The travel budget for 2024 is 80,000 EUR."])])
    ingestor = Ingestor(services)
    assert ingestor.ingest_file(path, tags={"department": "finance"}).status == "ok"
    vectors = services.kb.index().size
    again = ingestor.ingest_file(path, tags={"department": "hr", "year": "2024"})
    assert (again.status, again.reason) == ("skipped", "unchanged; tags updated")  # nothing re-embedded
    assert services.kb.store.documents()[0].tags == {"department": "hr", "year": "2024"}
    assert services.kb.index().size == vectors
    assert services.kb.search("travel budget", 3, filters=Filters(tags={"department": "finance"}))[0] == []
    assert services.kb.search("travel budget", 3, filters=Filters(tags={"department": "hr"}))[0]
    assert ingestor.ingest_file(path).reason == "unchanged"  # no tags given: the stored ones stay
    docgen.simple_pdf(path, [("Budget", ["The travel budget for 2025 is 95,000 EUR."])])
    assert ingestor.ingest_file(path).status == "ok"  # changed content, no tags given: carried over
    assert services.kb.store.documents()[0].tags == {"department": "hr", "year": "2024"}
    hits, _ = services.kb.search("travel budget", 3, filters=Filters(tags={"year": "2024"}))
    assert hits and "95,000" in hits[0].text
