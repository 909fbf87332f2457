"""Small PDFs that reproduce how real tables went wrong, each with the table HTML it must give.

Drawn with reportlab from Python data; the expected HTML is written by hand from the same data. Each case is one
way the ICDAR 2013 EU tables came out wrong before (issue 16): a grid drawn with more lines than it has cells
(double rules, a shaded header box), a title ruled into the table's frame, headers stacked over two rows with
spanning cells, and text in aligned columns that is not a table.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_SS = getSampleStyleSheet()
BLACK = colors.black


def _doc(path: Path, story: list) -> Path:
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=60, rightMargin=60, topMargin=60, bottomMargin=60).build(story)
    return path


def _intro() -> list:
    return [
        Paragraph("Energy statistics of the member states", _SS["Heading2"]),
        Paragraph(
            "The figures below were compiled from the national statistical offices and revised in the spring. "
            "They cover the years for which every office reported.",
            _SS["BodyText"],
        ),
        Spacer(1, 12),
    ]


def double_rules(path: Path) -> tuple[Path, str]:
    """A grid with a double frame, a double rule after the first column and a shaded header row."""
    data = [["Country", "2019", "2020"], ["France", "1.2", "1.4"], ["Spain", "0.9", "1.1"], ["Italy", "2.0", "2.2"]]
    table = Table(data, colWidths=[120, 70, 70])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, BLACK),
                ("BOX", (0, 0), (-1, -1), 0.8, BLACK, None, None, None, 2, 2),
                ("LINEAFTER", (0, 0), (0, -1), 0.8, BLACK, None, None, None, 2, 2),
            ]
        )
    )
    expected = (
        "<table><thead><tr><th>Country</th><th>2019</th><th>2020</th></tr></thead><tbody>"
        "<tr><td>France</td><td>1.2</td><td>1.4</td></tr><tr><td>Spain</td><td>0.9</td><td>1.1</td></tr>"
        "<tr><td>Italy</td><td>2.0</td><td>2.2</td></tr></tbody></table>"
    )
    return _doc(path, [*_intro(), table]), expected


def caption_in_frame(path: Path) -> tuple[Path, str]:
    """A ruled table whose frame holds its title as a first row across every column."""
    data = [
        ["Table 3. Emissions by sector (kt)", "", ""],
        ["Sector", "2010", "2015"],
        ["Energy", "412", "388"],
        ["Transport", "203", "219"],
    ]
    table = Table(data, colWidths=[140, 70, 70])
    table.setStyle(TableStyle([("SPAN", (0, 0), (-1, 0)), ("GRID", (0, 0), (-1, -1), 0.5, BLACK)]))
    expected = (
        "<table><caption>Table 3. Emissions by sector (kt)</caption><thead><tr><th>Sector</th><th>2010</th>"
        "<th>2015</th></tr></thead><tbody><tr><td>Energy</td><td>412</td><td>388</td></tr>"
        "<tr><td>Transport</td><td>203</td><td>219</td></tr></tbody></table>"
    )
    return _doc(path, [*_intro(), table]), expected


def stacked_headers(path: Path) -> tuple[Path, str]:
    """Two header rows: country names over two columns each, then the sexes."""
    data = [
        ["", "Finland", "", "Sweden", ""],
        ["", "Female", "Male", "Female", "Male"],
        ["1995", "59.0", "64.2", "68.8", "73.1"],
        ["2000", "64.2", "70.1", "70.9", "75.1"],
        ["2005", "66.5", "70.3", "70.4", "74.4"],
    ]
    table = Table(data, colWidths=[60, 60, 60, 60, 60])
    table.setStyle(TableStyle([("SPAN", (1, 0), (2, 0)), ("SPAN", (3, 0), (4, 0)), ("GRID", (0, 0), (-1, -1), 0.5, BLACK)]))
    expected = (
        '<table><thead><tr><th></th><th colspan="2">Finland</th><th colspan="2">Sweden</th></tr>'
        "<tr><th></th><th>Female</th><th>Male</th><th>Female</th><th>Male</th></tr></thead><tbody>"
        "<tr><td>1995</td><td>59.0</td><td>64.2</td><td>68.8</td><td>73.1</td></tr>"
        "<tr><td>2000</td><td>64.2</td><td>70.1</td><td>70.9</td><td>75.1</td></tr>"
        "<tr><td>2005</td><td>66.5</td><td>70.3</td><td>70.4</td><td>74.4</td></tr></tbody></table>"
    )
    return _doc(path, [*_intro(), table]), expected


def aligned_prose(path: Path) -> Path:
    """Short lines of prose that fall into three aligned columns (a contact block laid out with tab stops): text,
    not a table."""
    lines = [
        ("Brussels office", "Rue de la Loi 200", "open 9 to 17"),
        ("Luxembourg office", "Rue Alcide 12", "open 8 to 16"),
        ("Strasbourg office", "Allee du Printemps 1", "open 9 to 18"),
        ("Lisbon office", "Cais do Sodre 2", "open 9 to 17"),
    ]
    story = [*_intro()]
    for left, middle, right in lines:
        row = Table([[left, middle, right]], colWidths=[150, 150, 150])
        row.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("FONTSIZE", (0, 0), (-1, -1), 10)]))
        story.append(row)
    story.append(Paragraph("Visitors are asked to register at the front desk of each office.", _SS["BodyText"]))
    return _doc(path, story)
