"""Office, web, e-mail and text formats into the layout HTML: generated files of each format (python-docx,
python-pptx, openpyxl, the standard library's `email`) with exact expected fragments, and the bad inputs
(macro-enabled files, decompression bombs, scripts). Legacy and OpenDocument files, which need LibreOffice, are in
tests/integration/test_office_formats.py."""

import io
import zipfile

import pytest

from ingest.chunker import chunks_with
from ingest.formats.package import MAX_PART_BYTES
from ingest.formats.readers import read_document
from ingest.formats.sections import SECTION_WORDS, block, flow_pages
from ingest.formats.xlsx import cell_text, regions
from ingest.parse.from_html import read_layout_html
from ingest.parse.html import to_html
from ingest.parse.sniff import sniff
from rag.core.errors import TooLarge
from rag.core.settings import ChunkSettings
from tests.helpers import office_docs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return office_docs.modern_set(tmp_path_factory.mktemp("office"))


def html_of(path, name=None):
    return to_html(read_document(path, sniff(path), name))


def test_docx_headings_from_styles_lists_and_a_merged_cell_table(files):
    html = html_of(files["docx"])
    assert html.startswith('<article data-doc="policy.docx" data-pages="2">')
    assert '<h1 data-bbox="0,0,0,0">Travel policy</h1>' in html
    assert '<h2 data-bbox="0,0,0,0">Allowances</h2>' in html and '<h3 data-bbox="0,0,0,0">Rates</h3>' in html
    assert '<ul>\n      <li data-bbox="0,0,0,0">Keep every receipt</li>\n      <li data-bbox="0,0,0,0">Book through' in html
    assert '<ol>\n      <li data-bbox="0,0,0,0">Submit the claim within 30 days</li>\n    </ol>' in html
    assert (
        '<table data-bbox="0,0,0,0"><caption>Table 1: Daily rates</caption><thead><tr><th>Region</th><th>Meal</th>'
        '<th>Hotel</th></tr></thead><tbody><tr><td rowspan="2">Europe</td><td colspan="2">55 EUR</td></tr>'
        "<tr><td>10</td><td>120</td></tr></tbody></table>"
    ) in html
    # sections at the top headings, each labelled with its heading (the citation's location)
    assert 'data-page="2" data-width="0" data-height="0" data-source="text" data-label="Rates"' in html


def test_a_docx_named_pdf_is_read_as_docx(files, tmp_path):
    named = tmp_path / "policy.pdf"
    named.write_bytes(files["docx"].read_bytes())
    assert sniff(named) == "docx" and "Travel policy" in html_of(named)


def test_pptx_slides_are_sections_with_notes_as_asides_and_merged_table_cells(files):
    html = html_of(files["pptx"])
    assert '<section data-page="2" data-width="720" data-height="540" data-source="text" data-label="Slide 2">' in html
    assert '<h1 data-bbox="54,167.8,666,283.6">Quarterly review</h1>' in html
    assert '<h2 data-bbox="36,21.6,684,111.6">Results</h2>' in html
    assert '<li data-bbox="36,126,684,482.4">Revenue up 12%</li>' in html
    assert (
        '<aside data-bbox="0,0,720,540">\n      <p data-bbox="0,0,0,0">Mention the new region.</p>\n'
        '      <p data-bbox="0,0,0,0">Thank the team.</p>\n    </aside>'
    ) in html
    assert (
        '<thead><tr><th>Region</th><th>Q1</th><th>Q2</th></tr></thead><tbody><tr><td rowspan="2">North</td>'
        '<td>10</td><td>12</td></tr><tr><td colspan="2">n/a</td></tr></tbody>'
    ) in html


def test_xlsx_sheets_are_named_sections_and_a_sheet_holds_two_tables(files):
    html = html_of(files["xlsx"])
    assert '<section data-page="1" data-width="3" data-height="10" data-source="text" data-label="Sheet Budget">' in html
    assert '<h2 data-bbox="0,0,0,0">Budget</h2>' in html
    assert (
        '<table data-bbox="0,0,3,4"><caption>Costs 2024</caption><thead><tr><th>Item</th><th>Q1</th><th>Q2</th>'
        "</tr></thead><tbody><tr><td>Travel</td><td>1200</td><td>1350.5</td></tr><tr><td>Rent</td><td>5000</td>"
        "<td>5,000.00</td></tr></tbody></table>"
    ) in html
    assert (
        '<table data-bbox="0,6,2,10"><thead><tr><th>Team</th><th>Headcount</th></tr></thead><tbody><tr><td>Sales'
        '</td><td>12</td></tr><tr><td>Share</td><td>25%</td></tr><tr><td colspan="2">Figures as of June</td></tr>'
    ) in html
    assert 'data-label="Sheet Notes"' in html and '<p data-bbox="0,0,1,1">Approved by the board.</p>' in html


def test_html_scripts_are_dropped_and_never_run_and_structure_is_kept(files):
    doc = read_document(files["html"], "html")
    html = to_html(doc)
    assert "alert" not in html and "injected" not in html and "steal" not in html and "evil" not in html
    assert doc.notes == ["2 script(s) and 2 event handler(s) or javascript: link(s) removed, never run"]
    assert '<h1 data-bbox="0,0,0,0">Office guide</h1>' in html and '<li data-bbox="0,0,0,0">Badge needed</li>' in html
    assert (
        '<caption>Rooms</caption><thead><tr><th>Room</th><th colspan="2">Seats</th></tr></thead><tbody><tr>'
        '<td rowspan="2">Oslo</td>'
    ) in html
    assert '<figure data-bbox="0,0,0,0"><p>Floor plan</p><figcaption>Figure 1: Level 2</figcaption></figure>' in html
    assert doc.metadata == {"title": "Office guide"}


def test_markdown_text_csv_and_tsv(files):
    md = html_of(files["markdown"])
    assert '<h2 data-bbox="0,0,0,0">Version 2</h2>' in md and "<th>Feature</th><th>Status</th>" in md
    assert '<ol>\n      <li data-bbox="0,0,0,0">Install</li>' in md
    text = html_of(files["text"])
    assert '<p data-bbox="0,0,0,0">The service reads every office file.</p>' in text
    assert '<li data-bbox="0,0,0,0">one</li>' in text
    assert (
        '<table data-bbox="0,0,2,3"><thead><tr><th>Site</th><th>Staff</th></tr></thead><tbody><tr><td>Oslo</td>'
        "<td>12</td></tr><tr><td>Bergen</td><td>7</td></tr></tbody></table>"
    ) in html_of(files["csv"])
    assert "<tbody><tr><td>Oslo</td><td>12</td></tr></tbody>" in html_of(files["tsv"])


def test_eml_headers_are_metadata_and_attachments_are_listed_and_handed_on(files):
    doc = read_document(files["eml"], "eml")
    html = to_html(doc)
    assert doc.metadata["from"] == "Ann Berg <ann@example.com>" and doc.metadata["subject"] == "Budget for 2025"
    assert '<h1 data-bbox="0,0,0,0">Budget for 2025</h1>' in html
    assert '<li data-bbox="0,0,0,0">From: Ann Berg &lt;ann@example.com&gt;</li>' in html
    assert '<p data-bbox="0,0,0,0">the budget grows by 4 percent next year.</p>' in html
    assert '<h2 data-bbox="0,0,0,0">Attachments</h2>' in html and "policy.docx (application/vnd.openxml" in html
    assert [name for name, _ in doc.attachments] == ["policy.docx"]
    assert doc.attachments[0][1] == files["docx"].read_bytes()


def test_every_format_round_trips_through_the_stored_html_and_chunks(files):
    for kind, path in files.items():
        doc = read_document(path, sniff(path))
        html = to_html(doc)
        assert html.startswith(f'<article data-doc="{path.name}"'), kind
        assert to_html(read_layout_html(html)) == html, kind
        chunks = chunks_with(doc, "d", ChunkSettings())
        assert chunks and all(c.page >= 1 for c in chunks), kind


def test_macro_enabled_files_are_read_and_their_macros_never_run(files, tmp_path):
    for source, name in ((files["docx"], "policy.docm"), (files["xlsx"], "budget.xlsm")):
        path = office_docs.macro_enabled(source, tmp_path / name)
        doc = read_document(path, sniff(path))
        assert doc.notes == ["macro-enabled file: its content was read, its macros were not run (removed)"]
        assert "Travel policy" in to_html(doc) or "Costs 2024" in to_html(doc)


def test_xlsx_decompression_bomb_is_refused_before_inflating(files, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(files["xlsx"]) as z, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            out.writestr(info, z.read(info.filename))
        # 300 MB of one repeated shared string inflates from about 300 KB
        with out.open("xl/sharedStrings2.xml", "w") as f:
            chunk = b"<si><t>" + b"A" * 1000 + b"</t></si>"
            for _ in range((MAX_PART_BYTES // len(chunk)) + 10):
                f.write(chunk)
    assert sniff(bomb) == "xlsx"
    with pytest.raises(TooLarge, match="bomb.xlsx: refused as a decompression bomb"):
        read_document(bomb, "xlsx")


def test_flow_sections_cut_at_top_headings_and_by_size():
    words = " ".join(["word"] * (SECTION_WORDS // 2))
    blocks = [block("title", "T", level=1), block("paragraph", words), block("heading", "Deep", level=4)]
    blocks += [block("paragraph", words), block("paragraph", words), block("heading", "Next", level=4)]
    blocks += [block("paragraph", words), block("heading", "Top", level=2), block("paragraph", "x")]
    pages = flow_pages(blocks)
    assert [p.label for p in pages] == ["T", "Next", "Top"]
    assert [len(p.blocks) for p in pages] == [5, 2, 2]


def test_sheet_regions_and_cell_values():
    cells = {(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 5), (5, 5)}
    assert regions(cells) == [(1, 1, 2, 2), (4, 1, 4, 1), (4, 5, 5, 5)]
    assert [cell_text(0.256, "0.0%"), cell_text(1234567.891, "#,##0.00"), cell_text(3.0), cell_text(True)] == [
        "25.6%",
        "1,234,567.89",
        "3",
        "TRUE",
    ]


def test_a_damaged_office_file_gets_a_one_line_reason(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("word/document.xml", b"<not-word/>")
    (tmp_path / "broken.docx").write_bytes(buf.getvalue())
    with pytest.raises(Exception, match="broken.docx: not a readable Word document") as err:
        read_document(tmp_path / "broken.docx", "docx")
    assert "\n" not in str(err.value)


def test_pictures_inside_documents_get_their_text_from_the_reader_given_and_empty_ones_go(tmp_path):
    docx_path, pptx_path = office_docs.make_pictures(tmp_path, ["MEMO 12", "Pay the invoice by Friday."])
    read = []

    def fake_ocr(data: bytes) -> str:
        read.append(len(data))
        return "MEMO 12\nPay the invoice by Friday." if len(data) > 2000 else ""

    html = to_html(read_document(docx_path, "docx", read_image=fake_ocr))
    assert (
        '<figure data-bbox="0,0,0,0"><p>Scanned memo</p><p>MEMO 12</p><p>Pay the invoice by Friday.</p>'
        "<figcaption>Figure 1: the memo</figcaption></figure>"
    ) in html
    assert html.count("<figure") == 1 and len(read) == 2  # the logo was read too, found empty, and dropped
    html = to_html(read_document(pptx_path, "pptx", read_image=fake_ocr))
    assert "<p>MEMO 12</p><p>Pay the invoice by Friday.</p></figure>" in html and html.count("<figure") == 1
    # without a reader, only the alt text is kept
    html = to_html(read_document(docx_path, "docx"))
    assert '<figure data-bbox="0,0,0,0"><p>Scanned memo</p><figcaption>' in html and "MEMO" not in html


def test_xlsx_merged_range_over_a_whole_sheet_is_refused_before_openpyxl_builds_it(files, tmp_path):
    bomb = tmp_path / "merge-bomb.xlsx"
    with zipfile.ZipFile(files["xlsx"]) as z, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                merge = b'<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
                data = data.replace(b"</sheetData>", b"</sheetData>" + merge) if b"</sheetData>" in data else data
            out.writestr(info, data)
    with pytest.raises(TooLarge, match=r"merge-bomb.xlsx: refused as a decompression bomb \(merged ranges in xl/worksheets/"):
        read_document(bomb, "xlsx")


def test_rag_eval_parse_scores_the_generated_files_of_every_format(tmp_path):
    from ingest.evaluation.parse import evaluate

    files = office_docs.modern_set(tmp_path)
    office_docs.write_truths(files)
    result = evaluate(tmp_path, lambda p: read_document(p, sniff(p)))
    assert result["summary"]["fixtures"] == len(files) and result["summary"]["errors"] == 0
    assert result["summary"]["cer_born_digital"] <= 0.01 and result["summary"]["teds_born_digital"] >= 0.95
