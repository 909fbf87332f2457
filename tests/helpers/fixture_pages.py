"""More parse fixtures with known truth (see tests/helpers/parse_fixtures.py): display formulas, and a sidebar box.

- `formula`: a one-column page with two numbered display formulas (centred, the number at the right margin) and
  one unnumbered one. Truth: `<p class="formula">` holding the formula, then its number in brackets.
- `sidebar`: a full-width title, the main text in a left column that continues full width below a shaded,
  boxed sidebar on the right. Truth: the main text flows unbroken; the sidebar is one `<aside>` after it.

With scans, `build_fixtures` also writes a 200-dpi image-only copy of each (`scan-formula-200dpi.pdf`, ...).
`office_pdf` makes one more document with LibreOffice headless, only for tests that skip when `soffice` is absent.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import FrameBreak, PageTemplate, Paragraph

from tests.helpers.parse_fixtures import _T, BODY, STYLES, Item, Rendered, Story, _frame, _single, render, running

FORMULA = ParagraphStyle(
    "fx-formula", parent=BODY, fontName="Times-Italic", fontSize=11, leading=14, alignment=TA_CENTER, spaceAfter=0
)
NUMBER = ParagraphStyle("fx-eqno", parent=BODY, fontSize=10, alignment=TA_RIGHT, spaceAfter=0)


def add_formula(s: Story, formula: str, number: str = "") -> None:
    """A display formula centred in the text width, its number (if any) flush right on the same line."""
    width = A4[0] - 108
    text = formula + (f" ({number})" if number else "")
    fid = s._item(Item("formula", text))
    cells = [["", Paragraph(escape(formula, quote=False), FORMULA), Paragraph(f"({number})", NUMBER) if number else ""]]
    t = _T(
        cells,
        colWidths=[50, width - 100, 50],
        hAlign="CENTER",
        style=[
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 7),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 9),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )
    t.truth_id = fid
    s.flowables.append(t)


def formula_page(path: Path) -> Rendered:
    """A section on pumping energy with two numbered display formulas and an unnumbered one."""
    s = Story()
    s.add("h2", "4. Pumping energy")
    s.add(
        "p",
        "The electrical energy a pumping station draws depends on the volume it lifts, the height it lifts it "
        "through and the efficiency of its pump sets. For a station lifting a volume V (cubic metres) through "
        "a total head H (metres) the energy in kilowatt hours is",
    )
    add_formula(
        s,
        "E = \u03c1 \u00d7 g \u00d7 V \u00d7 H / (3.6 \u00d7 10^6 \u00d7 \u03b7)".replace("\u03c1", "p").replace("\u03b7", "n"),
        "1",
    )
    s.add(
        "p",
        "where p is the density of water (1,000 kg per cubic metre), g is 9.81 m/s\u00b2 and n is the combined "
        "efficiency of pump, motor and drive. The head is the static lift plus the friction loss in the rising "
        "main, which grows with the square of the flow:",
    )
    add_formula(s, "H = Hs + k \u00d7 Q\u00b2", "2")
    s.add(
        "p",
        "Kestrel Moor lifts water through a static head of 46 m. With k = 0.0012 and a flow of 120 litres per "
        "second the friction loss is 17.3 m, so the station works against 63.3 m in all. For the whole "
        "station the specific energy is then",
    )
    add_formula(s, "e = E / V = 0.2127 kWh/m\u00b3")
    s.add(
        "p",
        "This is the figure used in the budget. Each point of pump efficiency gained saves about 1.3% of the "
        "station's electricity bill, which is why the drives were replaced first.",
    )
    return render(path, s, _single(A4, "Northwind Water Authority - Technical Note TN-17", "Page {page}"))


SIDEBAR_MAIN = [
    "The new treatment works at Harrow Gill took its first water on 3 June, eleven weeks later than planned but "
    "within its budget of $ 38.2 million. The delay came from the membrane units, which were held at the port for "
    "a month while their pressure certificates were checked, and from a wet spring that slowed the earthworks.",
    "The works replaces the sand filters built in 1962. It can treat 64 Ml of water a day, a third more than the "
    "old plant, and it removes the colour that peat gives the upland water without the large doses of coagulant "
    "the old process needed. Sludge volumes have fallen by about half in the first month of operation.",
    "Commissioning went in three stages. The membranes were tested with clean water in April, raw water was "
    "introduced to one stream in May, and the second stream followed in June once the first had run for three "
    "weeks without a fault. Water went into supply only after the laboratory had passed forty sets of samples.",
    "Operators trained on the new control system at the supplier's plant in Leeds, and six of them now hold the "
    "membrane operator certificate. The remaining staff will be certified by the end of the year, when the "
    "old filter house will be closed and its equipment sold or recycled.",
    "Customers in the Harrow Gill zone should notice softer, clearer water. A small number of homes on the "
    "highest ground may see a short drop in pressure in the mornings while the new pumps are tuned; the "
    "contact centre has been briefed and will log every report so the settings can be adjusted street by street.",
]
SIDEBAR_BOX = [
    ("h3", "At a glance"),
    ("p", "Harrow Gill treatment works, built 2022-2024."),
    ("ul", "Capacity: 64 Ml a day.", "Cost: $ 38.2 million.", "Staff: 14 operators.", "First water: 3 June 2024."),
]


def sidebar_page(path: Path) -> Rendered:
    """Main text beside a shaded sidebar box, continuing full width below it; the box is read after the text."""
    w, h = A4
    top, box_w, gap = h - 56, 160, 24
    main_w = w - 108 - box_w - gap
    box_x, box_top, box_h = 54 + main_w + gap, top - 48, 118
    run = running("Northwind Water Authority - Staff Newsletter", "Page {page}")

    def page(canvas, doc):
        canvas.saveState()
        canvas.setFillColor(colors.Color(0.9, 0.93, 0.97))
        canvas.setStrokeColor(colors.Color(0.3, 0.4, 0.6))
        canvas.rect(box_x - 8, box_top - box_h - 8, box_w + 16, box_h + 16, fill=1, stroke=1)
        canvas.restoreState()
        run(canvas, doc)

    frames = [
        _frame("title", 54, top - 40, w - 108, 40),
        _frame("beside", 54, box_top - box_h - 8, main_w, box_h + 8),
        _frame("below", 54, 50, w - 108, box_top - box_h - 8 - 4 - 50),
        _frame("box", box_x, box_top - box_h, box_w, box_h),
    ]
    s = Story()
    s.add("h1", "Harrow Gill Works Opens")
    s.flowables.append(FrameBreak())
    s.add("p", *SIDEBAR_MAIN)
    s.flowables.append(FrameBreak())
    for tag, *texts in SIDEBAR_BOX:
        for text in texts:
            para = s.para(tag, text, "\u2022" if tag == "ul" else None, style=SMALL.get(tag))
            s.items[para.truth_id].aside = True
            s.flowables.append(para)
    out = render(path, s, [PageTemplate("sidebar", frames, onPage=page)])
    if len(out.marks) != 1:
        raise RuntimeError(f"{path.name}: expected one page, got {len(out.marks)}")
    return out


SMALL = {
    "h3": ParagraphStyle("fx-side-h", parent=STYLES["h3"], fontSize=10.5, leading=13),
    "p": ParagraphStyle("fx-side-p", parent=BODY, fontName="Helvetica", fontSize=9, leading=11.5, alignment=0),
    "ul": ParagraphStyle("fx-side-li", parent=STYLES["ul"], fontName="Helvetica", fontSize=9, leading=11.5),
}
MORE_FIXTURES = {"formula": formula_page, "sidebar": sidebar_page}
SCANNED_200 = {"formula": "scan-formula", "sidebar": "scan-sidebar"}  # one 200-dpi image-only PDF of each


# ---- a document made by LibreOffice (optional: only where `soffice` is installed) ----------------------------------

OFFICE_BLOCKS = [
    ("h1", "Depot Safety Handbook"),
    (
        "p",
        "This handbook applies to every depot operated by Harbourline Logistics. It sets out the rules that keep "
        "drivers, warehouse staff and visitors safe, and it is reviewed each year by the safety committee.",
    ),
    ("h2", "Vehicle movements"),
    (
        "p",
        "Vehicles move at walking pace inside the depot gates. Reversing is allowed only with a banksman, and "
        "pedestrians keep to the marked walkways at all times.",
    ),
    (
        "ul",
        "Speed limit inside the gates: 8 km/h.",
        "High-visibility vests are worn in every yard.",
        "Keys stay in the key cabinet when a vehicle is parked.",
    ),
    ("h2", "Inspection intervals"),
    ("p", "Equipment is inspected at the intervals below; the depot manager keeps the records for five years."),
    (
        "table",
        [
            ["Equipment", "Interval", "Inspector"],
            ["Forklift trucks", "6 months", "Hartley Engineering"],
            ["Loading dock levellers", "12 months", "Depot manager"],
            ["Fire extinguishers", "12 months", "Northgate Fire Ltd"],
        ],
    ),
    ("p", "Any defect found between inspections is reported to the duty supervisor the same day."),
]


def office_html(blocks=OFFICE_BLOCKS, truth: bool = False) -> str:
    """The document as HTML: the source LibreOffice converts (with table borders) or the truth (thead/tbody)."""
    out, items = [], None
    for tag, *rest in blocks:
        if tag != "ul" and items is not None:
            out.append("<ul>" + "".join(f"<li>{escape(t, quote=False)}</li>" for t in items) + "</ul>")
            items = None
        if tag == "ul":
            items = list(rest)
        elif tag == "table":
            rows = rest[0]
            head = "".join(f"<th>{escape(c, quote=False)}</th>" for c in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{escape(c, quote=False)}</td>" for c in r) + "</tr>" for r in rows[1:])
            border = "" if truth else ' border="1" cellpadding="4"'
            out.append(f"<table{border}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            out.append(f"<{tag}>{escape(rest[0], quote=False)}</{tag}>")
    if items is not None:
        out.append("<ul>" + "".join(f"<li>{escape(t, quote=False)}</li>" for t in items) + "</ul>")
    if truth:
        return (
            '<article data-doc="office.pdf" data-pages="1">\n<section data-page="1">\n'
            + "\n".join(out)
            + "\n</section>\n</article>\n"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Depot Safety Handbook</title></head><body>"
        + "\n".join(out)
        + "</body></html>"
    )


def office_pdf(out_dir: Path, soffice: str, timeout: float = 180) -> Path:
    """`office.pdf` (+ `office.truth.html`) converted from HTML by LibreOffice headless; returns the PDF path."""
    import subprocess

    out_dir = Path(out_dir)
    src = out_dir / "office.html"
    src.write_text(office_html(), encoding="utf-8")
    profile = out_dir / "lo-profile"  # its own profile: no clash with another soffice running
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--infilter=HTML (StarWriter)",  # Writer, not Writer/Web (which dropped the h1 onto a blank page)
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(out_dir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    (out_dir / "office.truth.html").write_text(office_html(truth=True), encoding="utf-8")
    return out_dir / "office.pdf"
