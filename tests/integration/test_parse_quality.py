"""Parser quality on the generated fixture set (born-digital part): reading order, headings, lists,
running headers, ruled, unruled, merged-cell and two-page tables, figures. Scores, not timings."""

import pytest

from ingest.evaluate import evaluate
from ingest.pipeline import Ingestor
from rag.services import Services
from tests.conftest import make_settings
from tests.parse_fixtures import build_fixtures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fixtures")
    build_fixtures(folder, scans=False)
    ingestor = Ingestor(Services(make_settings(tmp_path_factory.mktemp("data"))))
    return evaluate(folder, ingestor.parse)


def test_born_digital_text_in_reading_order(scores):
    by_name = {r["name"]: r for r in scores["fixtures"]}
    assert by_name["article-2col.pdf"]["cer"] <= 0.01
    assert by_name["article-3col.pdf"]["cer"] <= 0.01
    assert scores["summary"]["cer_born_digital"] <= 0.02


def test_born_digital_tables_structure_and_cells(scores):
    by_name = {r["name"]: r for r in scores["fixtures"]}
    assert by_name["table-ruled.pdf"]["teds"] == [1.0]
    assert by_name["table-unruled.pdf"]["teds"] == [1.0]
    assert by_name["figure.pdf"]["tables_found"] == 0  # charts are figures, not tables
    assert scores["summary"]["teds_born_digital"] >= 0.95
