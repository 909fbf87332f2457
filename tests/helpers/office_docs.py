"""Generated files of every office, web, e-mail and text format with known headings, lists, tables and notes
(python-docx, python-pptx, openpyxl, the standard library's `email`; legacy and OpenDocument files through
LibreOffice), for the format tests and `bench/office_formats.py`."""

import shutil
import subprocess
import tempfile
import zipfile
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl
import pptx
from pptx.util import Inches


def make_docx(path: Path, paragraphs: int = 0) -> Path:
    """Title, two heading levels, a bulleted and a numbered list, a captioned table with a merged column and a
    merged row; `paragraphs` more body paragraphs (for benchmarks)."""
    d = docx.Document()
    d.core_properties.title = "Travel policy"
    d.add_heading("Travel policy", 0)
    d.add_heading("Allowances", 1)
    d.add_paragraph("Meals are paid per day of travel.")
    d.add_paragraph("Keep every receipt", style="List Bullet")
    d.add_paragraph("Book through the portal", style="List Bullet")
    d.add_paragraph("Submit the claim within 30 days", style="List Number")
    d.add_heading("Rates", 2)
    d.add_paragraph("Table 1: Daily rates", style="Caption")
    t = d.add_table(rows=3, cols=3)
    for c, text in enumerate(["Region", "Meal", "Hotel"]):
        t.cell(0, c).text = text
    t.cell(1, 0).merge(t.cell(2, 0)).text = "Europe"
    t.cell(1, 1).merge(t.cell(1, 2)).text = "55 EUR"
    t.cell(2, 1).text = "10"
    t.cell(2, 2).text = "120"
    for i in range(paragraphs):
        if i % 20 == 0:
            d.add_heading(f"Section {i // 20 + 1}", 1)
        d.add_paragraph(f"Paragraph {i} of the policy explains how travel costs number {i} are approved and paid back.")
    d.save(path)
    return path


def make_pictures(folder: Path, lines: list[str]) -> tuple[Path, Path]:
    """A DOCX with a scanned page pasted in (a picture of `lines`, alt text "Scanned memo") and a PPTX with the same
    picture on a slide, plus a small logo that holds no text."""
    from tests.helpers import docgen

    folder.mkdir(parents=True, exist_ok=True)
    scan = docgen.page_image(folder / "scan.png", lines)
    logo = folder / "logo.png"
    from PIL import Image

    Image.new("RGB", (40, 40), "navy").save(logo)
    d = docx.Document()
    d.add_heading("Memo", 1)
    d.add_paragraph("The scanned memo follows.")
    d.add_picture(str(scan), width=Inches(5))
    d.inline_shapes[0]._inline.docPr.set("descr", "Scanned memo")
    d.add_paragraph("Figure 1: the memo", style="Caption")
    d.add_picture(str(logo))
    d.save(folder / "memo.docx")
    p = pptx.Presentation()
    s = p.slides.add_slide(p.slide_layouts[5])
    s.shapes.title.text = "Scanned memo"
    s.shapes.add_picture(str(scan), Inches(1), Inches(1.5), width=Inches(7))
    s.shapes.add_picture(str(logo), Inches(9), Inches(0.2))
    p.save(folder / "memo.pptx")
    return folder / "memo.docx", folder / "memo.pptx"


def make_pptx(path: Path, extra_slides: int = 0) -> Path:
    """A title slide, a bulleted slide with speaker notes, and a slide with a table with merged cells."""
    p = pptx.Presentation()
    s = p.slides.add_slide(p.slide_layouts[0])
    s.shapes.title.text = "Quarterly review"
    s.placeholders[1].text = "Sales team"
    s = p.slides.add_slide(p.slide_layouts[1])
    s.shapes.title.text = "Results"
    tf = s.placeholders[1].text_frame
    tf.text = "Revenue up 12%"
    tf.add_paragraph().text = "Costs flat"
    s.notes_slide.notes_text_frame.text = "Mention the new region.\nThank the team."
    s = p.slides.add_slide(p.slide_layouts[5])
    s.shapes.title.text = "Numbers"
    t = s.shapes.add_table(3, 3, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for c, text in enumerate(["Region", "Q1", "Q2"]):
        t.cell(0, c).text = text
    t.cell(1, 0).merge(t.cell(2, 0))
    t.cell(1, 0).text = "North"
    t.cell(1, 1).text = "10"
    t.cell(1, 2).text = "12"
    t.cell(2, 1).merge(t.cell(2, 2))
    t.cell(2, 1).text = "n/a"
    for i in range(extra_slides):
        s = p.slides.add_slide(p.slide_layouts[1])
        s.shapes.title.text = f"Topic {i}"
        s.placeholders[1].text_frame.text = f"Point {i} about the plan for region {i}"
        s.notes_slide.notes_text_frame.text = f"Say more about point {i}."
    p.save(path)
    return path


def make_xlsx(path: Path, extra_sheets: int = 0, name: str = "Budget") -> Path:
    """A sheet with two tables (a titled one, and one under an empty row with a merged cell), and a notes sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = name
    ws["A1"] = "Costs 2024"
    for r in (["Item", "Q1", "Q2"], ["Travel", 1200, 1350.5], ["Rent", 5000, 5000]):
        ws.append(r)
    ws["C4"].number_format = "#,##0.00"
    ws["A7"], ws["B7"] = "Team", "Headcount"
    ws["A8"], ws["B8"] = "Sales", 12
    ws["A9"], ws["B9"] = "Share", 0.25
    ws["B9"].number_format = "0%"
    ws.merge_cells("A10:B10")
    ws["A10"] = "Figures as of June"
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Approved by the board."
    for i in range(extra_sheets):
        extra = wb.create_sheet(f"Region {i}")
        extra.append(["Month", "Sales", "Costs"])
        for m in range(12):
            extra.append([f"M{m + 1}", 100 * i + m, 50 * i + m])
    wb.save(path)
    return path


HTML = """<!DOCTYPE html>
<html><head><title>Office guide</title><script>alert('never run')</script><style>p{color:red}</style></head>
<body onload="steal()"><h1>Office guide</h1><h2>Opening hours</h2><p>The office opens at <b>8:00</b>.</p>
<ul><li>Badge needed</li><li>Visitors sign in</li></ul>
<table><caption>Rooms</caption><thead><tr><th>Room</th><th colspan="2">Seats</th></tr></thead>
<tbody><tr><td rowspan="2">Oslo</td><td>10</td><td>12</td></tr><tr><td>8</td><td>9</td></tr></tbody></table>
<script>document.write('<p>injected</p>')</script><a href="javascript:evil()">link</a>
<figure><img src="x.png" alt="Floor plan"><figcaption>Figure 1: Level 2</figcaption></figure></body></html>
"""

MARKDOWN = """# Release notes

## Version 2

- Faster search
- New viewer

| Feature | Status |
|---|---|
| Export | done |

1. Install
2. Run
"""


def make_eml(path: Path, attachment: Path | None = None) -> Path:
    msg = EmailMessage()
    msg["From"] = "Ann Berg <ann@example.com>"
    msg["To"] = "team@example.com"
    msg["Subject"] = "Budget for 2025"
    msg["Date"] = "Mon, 01 Dec 2025 09:00:00 +0000"
    msg.set_content("Hello team,\n\nthe budget grows by 4 percent next year.\n\nAnn")
    if attachment is not None:
        msg.add_attachment(
            attachment.read_bytes(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
            filename=attachment.name,
        )
    path.write_bytes(bytes(msg))
    return path


def libreoffice(source: Path, target: str, out: Path) -> Path:
    """`source` converted by LibreOffice into `target` format in folder `out`."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                shutil.which("soffice") or "soffice",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return out / f"{source.stem}.{target}"


def modern_set(folder: Path) -> dict[str, Path]:
    """One file of each format read without LibreOffice."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "docx": make_docx(folder / "policy.docx"),
        "pptx": make_pptx(folder / "review.pptx"),
        "xlsx": make_xlsx(folder / "budget.xlsx"),
        "html": folder / "guide.html",
        "markdown": folder / "notes.md",
        "text": folder / "readme.txt",
        "csv": folder / "sites.csv",
        "tsv": folder / "sites.tsv",
    }
    files["html"].write_text(HTML)
    files["markdown"].write_text(MARKDOWN)
    files["text"].write_text("Getting started\n\nThe service reads\nevery office file.\n\n- one\n- two\n")
    files["csv"].write_text("Site,Staff\nOslo,12\nBergen,7\n")
    files["tsv"].write_text("Site\tStaff\nOslo\t12\n")
    files["eml"] = make_eml(folder / "budget.eml", attachment=files["docx"])
    return files


def legacy_set(folder: Path, modern: dict[str, Path]) -> dict[str, Path]:
    """ODT/ODP/ODS and DOC/PPT/XLS/RTF made by LibreOffice from the modern files (DOC and RTF by way of ODT:
    LibreOffice's DOC export drops python-docx's tables)."""
    folder.mkdir(parents=True, exist_ok=True)
    odt = libreoffice(modern["docx"], "odt", folder)
    return {
        "odt": odt,
        "doc": libreoffice(odt, "doc", folder),
        "rtf": libreoffice(odt, "rtf", folder),
        "odp": libreoffice(modern["pptx"], "odp", folder),
        "ppt": libreoffice(modern["pptx"], "ppt", folder),
        "ods": libreoffice(modern["xlsx"], "ods", folder),
        "xls": libreoffice(modern["xlsx"], "xls", folder),
    }


def macro_enabled(source: Path, path: Path) -> Path:
    """`source` (a DOCX or XLSX) turned into its macro-enabled form with a VBA part, as Office writes it."""
    macro_types = {
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
            b"application/vnd.ms-word.document.macroEnabled.main+xml"
        ),
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        ),
    }
    vba_rel = (
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
        b' Target="vbaProject.bin"/></Relationships>'
    )
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        main = "word" if "word/document.xml" in z.namelist() else "xl"
        rels = f"{main}/_rels/{'document' if main == 'word' else 'workbook'}.xml.rels"
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "[Content_Types].xml":
                for plain, macro in macro_types.items():
                    data = data.replace(plain, macro)
                data = data.replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
                )
            elif info.filename == rels:
                data = data.replace(b"</Relationships>", vba_rel)
            out.writestr(info, data)
        out.writestr(f"{main}/vbaProject.bin", b'\xd0\xcf\x11\xe0 fake VBA: Sub AutoOpen() Shell("rm -rf ~") End Sub')
    return path


# What the generated files hold, written as HTML from what the generators above put in (not from the readers'
# output): the truth `rag eval parse` scores the readers against (CER of the text in reading order, TEDS of tables).
TRUTH = {
    "docx": (
        "<h1>Travel policy</h1><h2>Allowances</h2><p>Meals are paid per day of travel.</p><ul><li>Keep every receipt</li>"
        "<li>Book through the portal</li></ul><ol><li>Submit the claim within 30 days</li></ol><h3>Rates</h3>"
        "<table><caption>Table 1: Daily rates</caption><thead><tr><th>Region</th><th>Meal</th><th>Hotel</th></tr>"
        '</thead><tbody><tr><td rowspan="2">Europe</td><td colspan="2">55 EUR</td></tr><tr><td>10</td><td>120</td>'
        "</tr></tbody></table>"
    ),
    "pptx": (
        "<h1>Quarterly review</h1><p>Sales team</p><h2>Results</h2><ul><li>Revenue up 12%</li><li>Costs flat</li></ul>"
        "<aside><p>Mention the new region.</p><p>Thank the team.</p></aside><h2>Numbers</h2><table><thead><tr>"
        '<th>Region</th><th>Q1</th><th>Q2</th></tr></thead><tbody><tr><td rowspan="2">North</td><td>10</td><td>12</td>'
        '</tr><tr><td colspan="2">n/a</td></tr></tbody></table>'
    ),
    "xlsx": (
        "<h2>Budget</h2><table><caption>Costs 2024</caption><thead><tr><th>Item</th><th>Q1</th><th>Q2</th></tr></thead>"
        "<tbody><tr><td>Travel</td><td>1200</td><td>1350.5</td></tr><tr><td>Rent</td><td>5000</td><td>5,000.00</td></tr>"
        "</tbody></table><table><thead><tr><th>Team</th><th>Headcount</th></tr></thead><tbody><tr><td>Sales</td>"
        '<td>12</td></tr><tr><td>Share</td><td>25%</td></tr><tr><td colspan="2">Figures as of June</td></tr></tbody>'
        "</table><h2>Notes</h2><p>Approved by the board.</p>"
    ),
    "html": (
        "<h1>Office guide</h1><h2>Opening hours</h2><p>The office opens at 8:00.</p><ul><li>Badge needed</li>"
        '<li>Visitors sign in</li></ul><table><caption>Rooms</caption><thead><tr><th>Room</th><th colspan="2">Seats'
        '</th></tr></thead><tbody><tr><td rowspan="2">Oslo</td><td>10</td><td>12</td></tr><tr><td>8</td><td>9</td>'
        "</tr></tbody></table><p>link</p><figure><p>Floor plan</p><figcaption>Figure 1: Level 2</figcaption></figure>"
    ),
    "markdown": (
        "<h1>Release notes</h1><h2>Version 2</h2><ul><li>Faster search</li><li>New viewer</li></ul><table><thead><tr>"
        "<th>Feature</th><th>Status</th></tr></thead><tbody><tr><td>Export</td><td>done</td></tr></tbody></table>"
        "<ol><li>Install</li><li>Run</li></ol>"
    ),
    "text": "<p>Getting started</p><p>The service reads every office file.</p><ul><li>one</li><li>two</li></ul>",
    "csv": (
        "<table><thead><tr><th>Site</th><th>Staff</th></tr></thead><tbody><tr><td>Oslo</td><td>12</td></tr><tr>"
        "<td>Bergen</td><td>7</td></tr></tbody></table>"
    ),
    "tsv": "<table><thead><tr><th>Site</th><th>Staff</th></tr></thead><tbody><tr><td>Oslo</td><td>12</td></tr></tbody></table>",
    "eml": (
        "<h1>Budget for 2025</h1><ul><li>From: Ann Berg &lt;ann@example.com&gt;</li><li>To: team@example.com</li>"
        "<li>Date: Mon, 01 Dec 2025 09:00:00 +0000</li><li>Subject: Budget for 2025</li></ul><p>Hello team,</p>"
        "<p>the budget grows by 4 percent next year.</p><p>Ann</p><h2>Attachments</h2><ul><li>policy.docx "
        "(application/vnd.openxmlformats-officedocument.wordprocessingml.document, {size} bytes)</li></ul>"
    ),
}
LEGACY_TRUTH = {"odt": "docx", "doc": "docx", "rtf": "docx", "odp": "pptx", "ppt": "pptx", "ods": "xlsx", "xls": "xlsx"}


def write_truths(files: dict[str, Path]) -> None:
    """`NAME.truth.html` beside each generated file (for `rag eval parse` on their folder)."""
    for kind, path in files.items():
        truth = TRUTH[LEGACY_TRUTH.get(kind, kind)]
        if kind == "eml":
            size = len(path.parent.joinpath("policy.docx").read_bytes())
            truth = truth.replace("{size}", f"{size:,}")
        path.with_name(path.name + ".truth.html").write_text(f"<article>{truth}</article>")
