"""Tables drawn the way real documents draw them (tests/helpers/table_pdfs.py), through the real models.

Each case reproduces a way tables of the ICDAR 2013 EU set came out wrong before issue 16 (the commit before it gave
an extra empty row or column for double rules, a caption as a full-width header row, one header row of two, one
row per ruled band over every column, all rows of an unruled band in one cell, and two tables for one); each must
now give exactly the HTML written by hand from the data. The table model (layout regions + structure model) is on,
as by default; the grid cases must also hold with it off, since they come from the rules and the words alone.
"""

import re

import pytest

from ingest.parse.html import to_html
from ingest.parse.pdf import parse_pdf
from ingest.parse.scan import ScanReader
from tests.helpers import table_pdfs

pytestmark = pytest.mark.slow

GRID_CASES = ["double_rules", "caption_in_frame", "stacked_headers", "rows_ruled_across", "rows_without_rules"]


@pytest.fixture(scope="module")
def reader():
    return ScanReader()


def tables(html: str) -> list[str]:
    return [re.sub(r' data-bbox="[^"]*"', "", t) for t in re.findall(r"<table.*?</table>", html, re.S)]


@pytest.mark.parametrize("case", [*GRID_CASES, "table_with_gap"])
def test_table_comes_out_exactly(case, reader, tmp_path):
    pdf, expected = getattr(table_pdfs, case)(tmp_path / f"{case}.pdf")
    assert tables(to_html(parse_pdf(pdf, reader, 1))) == [expected]


@pytest.mark.parametrize("case", GRID_CASES)
def test_ruled_grids_need_no_model(case, reader, tmp_path):
    pdf, expected = getattr(table_pdfs, case)(tmp_path / f"{case}.pdf")
    assert tables(to_html(parse_pdf(pdf, reader, 1, table_model=False))) == [expected]


def test_caption_in_the_frame_is_a_caption_not_a_row(reader, tmp_path):
    pdf, _ = table_pdfs.caption_in_frame(tmp_path / "caption.pdf")
    html = to_html(parse_pdf(pdf, reader, 1))
    assert "<caption>Table 3. Emissions by sector (kt)</caption>" in html
    assert "<th colspan" not in html


def test_chart_labels_are_not_a_table(reader, tmp_path):
    """A bar chart's tick and value labels line up in rows and columns of numbers (a false table in eu-015)."""
    pdf = table_pdfs.chart_with_labels(tmp_path / "chart.pdf")
    html = to_html(parse_pdf(pdf, reader, 1))
    assert "<table" not in html
    assert "Figure 2. Enquiries per year and channel." in html


def test_stages_are_timed(reader, tmp_path):
    pdf, _ = table_pdfs.table_with_gap(tmp_path / "gap.pdf")
    doc = parse_pdf(pdf, reader, 1)
    assert {"text layer", "ruled tables", "layout model", "table structure model"} <= set(doc.stages)
    assert all(seconds >= 0 and calls >= 1 for seconds, calls in doc.stages.values())


def test_eval_parse_scores_a_folder_of_table_regions(tmp_path, monkeypatch):
    """`rag eval parse DIR` on a folder in the ICDAR 2013 format: the one table found and right, one gold table on a
    page where none is found (a miss), and detection scores that follow from them."""
    import json

    from typer.testing import CliRunner

    from api.cli import app
    from tests.helpers.models import MODELS_DIR

    (tmp_path / "pdfs").mkdir()
    _, expected = table_pdfs.stacked_headers(tmp_path / "pdfs" / "a.pdf")
    gold = re.sub(r"</?t(head|body)>", "", expected).replace("<th", "<td").replace("</th>", "</td>")
    lines = [
        {"id": "a/t1/r1/p1", "doc": "pdfs/a.pdf", "page": 1, "gt_variant": None, "html": gold},
        {"id": "a/t2/r1/p1", "doc": "pdfs/a.pdf", "page": 1, "gt_variant": None, "html": "<table><tr><td>x</td></tr></table>"},
    ]
    (tmp_path / "tables.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS_DIR))
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "data"), "eval", "parse", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])["summary"]
    assert (summary["gold_tables"], summary["predicted_tables"], summary["matched"]) == (2, 1, 1)
    assert (summary["precision"], summary["recall"]) == (1.0, 0.5)
    assert summary["teds"] == 0.5 and summary["teds_matched"] == 1.0
