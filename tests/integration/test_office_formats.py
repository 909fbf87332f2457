"""Legacy and OpenDocument files (DOC, PPT, XLS, RTF, ODT, ODP, ODS) made by LibreOffice from generated OOXML files,
read back through LibreOffice headless into the same layout HTML, with the network blocked; a conversion that
hangs is killed after its timeout."""

import shutil
import time

import pytest

from ingest.formats import libreoffice
from ingest.formats.readers import read_document
from ingest.parse.html import to_html
from ingest.parse.sniff import sniff
from ingest.pipeline import Ingestor
from rag.core.errors import TimedOut
from tests.helpers import office_docs
from tests.helpers.apps import make_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (scripts/test-tools.sh)"),
]

TABLE_DOC = (
    "<caption>Table 1: Daily rates</caption><thead><tr><th>Region</th><th>Meal</th><th>Hotel</th></tr></thead><tbody>"
    '<tr><td rowspan="2">Europe</td><td colspan="2">55 EUR</td></tr><tr><td>10</td><td>120</td></tr></tbody></table>'
)
TABLE_SLIDE = (
    '<tr><td rowspan="2">North</td><td>10</td><td>12</td></tr><tr><td colspan="2">n/a</td></tr></tbody></table>'
)  # fmt: skip


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("legacy")
    modern = office_docs.modern_set(folder / "modern")
    return office_docs.legacy_set(folder / "legacy", modern)


def test_word_processor_files_keep_headings_lists_and_the_merged_cell_table(legacy, no_network):
    for kind in ("odt", "doc", "rtf"):
        path = legacy[kind]
        assert sniff(path) == kind
        html = to_html(read_document(path, kind))
        assert '<h1 data-bbox="0,0,0,0">Travel policy</h1>' in html, kind
        assert '<h2 data-bbox="0,0,0,0">Allowances</h2>' in html and '<h3 data-bbox="0,0,0,0">Rates</h3>' in html, kind
        assert '<li data-bbox="0,0,0,0">Keep every receipt</li>' in html, kind
        assert '<ol>\n      <li data-bbox="0,0,0,0">Submit the claim within 30 days</li>' in html, kind
        assert TABLE_DOC in html, (kind, html)


def test_presentations_keep_slides_notes_and_merged_cells(legacy, no_network):
    for kind in ("odp", "ppt"):
        html = to_html(read_document(legacy[kind], sniff(legacy[kind])))
        assert 'data-label="Slide 2"' in html and "Results</h2>" in html, kind
        assert '<p data-bbox="0,0,0,0">Mention the new region.</p>' in html and "<aside" in html, kind
        assert TABLE_SLIDE in html, (kind, html)


def test_spreadsheets_keep_sheet_names_and_two_tables(legacy, no_network):
    for kind in ("ods", "xls"):
        html = to_html(read_document(legacy[kind], sniff(legacy[kind])))
        assert 'data-label="Sheet Budget"' in html and 'data-label="Sheet Notes"' in html, kind
        assert "<caption>Costs 2024</caption><thead><tr><th>Item</th><th>Q1</th><th>Q2</th></tr></thead>" in html, kind
        assert '<tr><td>Share</td><td>25%</td></tr><tr><td colspan="2">Figures as of June</td></tr>' in html, kind


def test_every_legacy_format_ingests_with_the_network_blocked(legacy, tmp_path, no_network):
    _, services = make_app(tmp_path / "data")
    report = Ingestor(services, processes=1).ingest_paths(list(legacy.values()), "legacy")
    assert [f.status for f in report.files] == ["ok"] * len(legacy), [(f.path, f.reason) for f in report.files]


def test_a_hanging_conversion_is_killed_after_its_timeout(tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 60 &\nsleep 60\n")  # a child of its own too: the whole group must go
    fake.chmod(0o755)
    monkeypatch.setenv("RAG_SOFFICE", str(fake))
    (tmp_path / "x.doc").write_bytes(b"irrelevant")
    t0 = time.monotonic()
    with pytest.raises(TimedOut, match=r"x.doc: LibreOffice did not convert it within 1 s \(killed\)"):
        libreoffice.convert(tmp_path / "x.doc", "doc", tmp_path, timeout=1)
    assert time.monotonic() - t0 < 10


def test_a_scan_pasted_into_word_and_onto_a_slide_is_read_by_ocr(tmp_path):
    docx_path, pptx_path = office_docs.make_pictures(tmp_path / "src", ["MEMO 12", "Pay the invoice by Friday."])
    _, services = make_app(tmp_path / "data")
    ingestor = Ingestor(services, processes=1)
    for path in (docx_path, pptx_path):
        html = to_html(ingestor.parse(path))
        assert "MEMO 12" in html and "Pay the invoice by Friday." in html, html
        assert html.count("<figure") == 1  # the logo holds no text and is too small to read


def test_rag_eval_parse_scores_the_legacy_files(legacy):
    from ingest.evaluation.parse import evaluate

    office_docs.write_truths(legacy)
    result = evaluate(next(iter(legacy.values())).parent, lambda p: read_document(p, sniff(p)))
    assert result["summary"]["fixtures"] == len(legacy) and result["summary"]["errors"] == 0
    assert result["summary"]["cer_born_digital"] <= 0.01 and result["summary"]["teds_born_digital"] >= 0.95, result
