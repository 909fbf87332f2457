"""Small PDFs that reproduce how real tables went wrong, each with the table HTML it must give.

Drawn with reportlab from Python data; the expected HTML is written by hand from the same data. Each case is one
way the ICDAR 2013 EU tables came out wrong before (issue 16): a grid drawn with more lines than it has cells
(double rules, a shaded header box), a title ruled into the table's frame, headers stacked over two rows with
spanning cells, columns ruled in the header only, rows that no rule separates, a table whose rows come in two
groups, and a chart whose labels line up like a table.
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
                ("BOX", (0, 0), (-1, -1), 0.8, BLACK, None, None, None, 2, 5),
                ("LINEAFTER", (0, 0), (0, -1), 0.8, BLACK, None, None, None, 2, 5),
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


def rows_ruled_across(path: Path) -> tuple[Path, str]:
    """Columns ruled in the header only; below it each row is ruled above and below, with no column rules."""
    data = [["Country", "Domestic (%)", "Imported (%)", "Total (n)"]] + [
        [c, d, i, t]
        for c, d, i, t in [("Austria", "86.2", "13.8", "3,375"), ("Belgium", "0", "0", "3,973"), ("Cyprus", "81.0", "3.8", "158")]
    ]
    table = Table(data, colWidths=[110, 80, 80, 70])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, 0), 0.5, BLACK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.5, BLACK),
                ("BOX", (0, 0), (-1, -1), 0.5, BLACK),
            ]
        )
    )
    expected = (
        "<table><thead><tr><th>Country</th><th>Domestic (%)</th><th>Imported (%)</th><th>Total (n)</th></tr></thead>"
        "<tbody><tr><td>Austria</td><td>86.2</td><td>13.8</td><td>3,375</td></tr>"
        "<tr><td>Belgium</td><td>0</td><td>0</td><td>3,973</td></tr>"
        "<tr><td>Cyprus</td><td>81.0</td><td>3.8</td><td>158</td></tr></tbody></table>"
    )
    return _doc(path, [*_intro(), table]), expected


def rows_without_rules(path: Path) -> tuple[Path, str]:
    """Columns ruled from top to bottom, but rows ruled only under the header and above the total."""
    body = [("Bulgaria", "2.3", "3.2", "5.5"), ("Cyprus", "0.21", "0", "0.21"), ("Estonia", "1.1", "1.9", "3.0")]
    data = [["Country", "Cohesion", "Convergence", "Total"], *[list(r) for r in body], ["TOTAL", "3.61", "5.1", "8.71"]]
    table = Table(data, colWidths=[110, 80, 80, 70])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, BLACK),
                ("LINEAFTER", (0, 0), (-2, -1), 0.5, BLACK),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, BLACK),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, BLACK),
            ]
        )
    )
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in body)
    expected = (
        "<table><thead><tr><th>Country</th><th>Cohesion</th><th>Convergence</th><th>Total</th></tr></thead>"
        f"<tbody>{rows}<tr><td>TOTAL</td><td>3.61</td><td>5.1</td><td>8.71</td></tr></tbody></table>"
    )
    return _doc(path, [*_intro(), table]), expected


def chart_with_labels(path: Path) -> Path:
    """A vector bar chart whose axis and value labels line up in rows and columns of numbers: a figure, not a table."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing

    drawing = Drawing(400, 220)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, 340, 170
    chart.data = [[12, 18, 25, 31, 22, 15], [10, 14, 20, 27, 19, 11], [8, 11, 16, 21, 15, 9]]
    chart.categoryAxis.categoryNames = ["2004", "2005", "2006", "2007", "2008", "2009"]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 35, 5
    chart.barLabelFormat = "%d"
    chart.barLabels.nudge = 6
    drawing.add(chart)
    note = Paragraph("Figure 2. Enquiries per year and channel.", _SS["BodyText"])
    return _doc(path, [*_intro(), drawing, note])


def table_with_gap(path: Path) -> tuple[Path, str]:
    """An unruled table whose rows come in two groups with a wider space between them: one table, not two."""
    top = [("Left out of things", "27.9%", "52.2%", "19.9%"), ("Helpless", "25.5%", "50.1%", "24.4%")]
    top += [("Hopeless", "32.4%", "43.5%", "24.1%")]
    bottom = [("Exhausted", "7.2%", "34.3%", "58.5%"), ("Depressed", "38.2%", "37.6%", "24.2%")]
    bottom += [("Considered leaving", "85.6%", "11.3%", "3.1%")]
    data = [["Feeling", "Never", "Sometimes", "Often"], *[list(r) for r in top], *[list(r) for r in bottom]]
    table = Table(data, colWidths=[140, 70, 70, 70])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, BLACK),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("BOTTOMPADDING", (0, 3), (-1, 3), 30),
            ]
        )
    )
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in top + bottom)
    expected = (
        "<table><thead><tr><th>Feeling</th><th>Never</th><th>Sometimes</th><th>Often</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return _doc(path, [*_intro(), table]), expected
