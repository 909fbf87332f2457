"""Generate a near-duplicate document corpus, with questions whose answer differs between the documents.

Real knowledge bases hold many nearly identical documents: the same employee handbook per country and
per year, the same product manual per model. Their text is the same except for a handful of facts
(a meal allowance, a notice period, a maximum load), and the pages stating those facts rarely repeat
who or when they apply to: the country, year or model is on the cover and in the running header only.
A question such as "What is the daily meal allowance in the Norway handbook for 2022?" then has one
right page among many that read almost alike, which is what this corpus measures.

It writes, under --out:
- pdfs/*.pdf: 9 employee handbooks of Contoso (Germany, France, Norway x 2021, 2022, 2023; 7 pages each)
  and 4 operating manuals of the Fabrikam HX winch series (HX-100 to HX-400; 6 pages each), real PDFs
  with a text layer, a cover, a running header, page numbers, headings, paragraphs and tables;
- questions.jsonl: FinanceBench-dev format (`question`, `answer`, `doc`, `page`, `evidence_pages`), one
  question per differing fact and document, phrased the way a user names the document (country name or
  adjective, entity name, model number with or without its prefix), plus questions about wording that
  is the same in every document of a family (`names_document: false`; `doc` is the family's first
  document). Every fact value is unique per document, so its answer pins down one document.

Every question is checked against the generated PDFs (text per page with pypdf): its answer is on its
page, a document-specific answer is nowhere else in the corpus, shared wording is on the same page of
every document of its family, and no body page names its country, year or model. Any failure stops the
script. Output is deterministic given --seed (values and phrasings are drawn from it).

Run:  .venv/bin/python bench/near_duplicates.py --out /tmp/neardup [--seed 0]
Then: rag --data-dir D eval pages --questions /tmp/neardup/questions.jsonl --docs /tmp/neardup/pdfs
"""

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

YEARS = [2021, 2022, 2023]
MODELS = [100, 200, 300, 400]
STYLES = getSampleStyleSheet()
COVER_TITLE = ParagraphStyle("CoverTitle", parent=STYLES["Title"], fontSize=30, leading=36, spaceBefore=120, spaceAfter=24)
COVER_LINE = ParagraphStyle("CoverLine", parent=STYLES["Normal"], fontSize=15, leading=22, alignment=1)
CELL = ParagraphStyle("Cell", parent=STYLES["BodyText"], fontSize=9, leading=11)


@dataclass(frozen=True)
class Country:
    slug: str
    name: str
    adjective: str
    entity: str  # the local legal entity
    currency: str

    @property
    def short(self) -> str:
        return self.entity.rsplit(" ", 1)[0]  # without the legal form: "Contoso Norge"


COUNTRIES = [
    Country("germany", "Germany", "German", "Contoso Deutschland GmbH", "EUR"),
    Country("france", "France", "French", "Contoso France SAS", "EUR"),
    Country("norway", "Norway", "Norwegian", "Contoso Norge AS", "NOK"),
]


@dataclass
class Page:
    flowables: list[Flowable]
    facts: list[str]  # keys of the facts (and shared statements) written on this page


@dataclass
class Document:
    family: str  # "handbook" | "manual"
    file: str
    title: str
    header: str
    pages: list[Page]
    facts: dict[str, str]  # fact key -> the value as written
    names: dict[str, str]  # placeholders for question templates
    forbidden: list[str] = field(default_factory=list)  # words no body page may contain


# --- fact values ------------------------------------------------------------------------------------


def money(currency: str, amount: float, decimals: int = 0) -> str:
    return f"{currency} {amount:,.{decimals}f}"


def steps(start: float, stop: float, step: float) -> list[float]:
    n = round((stop - start) / step)
    return [round(start + i * step, 2) for i in range(n + 1)]


@dataclass(frozen=True)
class FactSpec:
    """How a fact's values are drawn (a pool per currency, or "*" for all) and written."""

    pools: dict[str, list]
    write: Callable[[object, str], str]
    descending: bool = False


HANDBOOK_FACTS = {
    "weekly_hours": FactSpec({"*": steps(35, 40, 0.5)}, lambda v, c: f"{v:g} hours"),
    "core_hours": FactSpec(
        {"*": [f"{a} to {b}" for a in ("08:30", "09:00", "09:30", "10:00") for b in ("14:30", "15:00", "15:30", "16:00")]},
        lambda v, c: v,
    ),
    "vacation_days": FactSpec({"*": list(range(24, 35))}, lambda v, c: f"{v} working days"),
    "meal_allowance": FactSpec({"EUR": list(range(24, 40)), "NOK": steps(560, 790, 10)}, lambda v, c: money(c, v)),
    "hotel_ceiling": FactSpec({"EUR": steps(160, 250, 10), "NOK": steps(1600, 2500, 100)}, lambda v, c: money(c, v)),
    "mileage_rate": FactSpec({"EUR": steps(0.25, 0.45, 0.01), "NOK": steps(3.0, 5.0, 0.05)}, lambda v, c: money(c, v, 2)),
    "home_office": FactSpec({"EUR": steps(40, 75, 5), "NOK": steps(300, 500, 20)}, lambda v, c: money(c, v)),
    "laptop_cycle": FactSpec({"*": steps(24, 48, 3)}, lambda v, c: f"{v:g} months"),
    "training_budget": FactSpec({"EUR": steps(600, 1500, 100), "NOK": steps(6000, 15000, 500)}, lambda v, c: money(c, v)),
    "gift_limit": FactSpec({"EUR": steps(80, 150, 10), "NOK": steps(800, 1500, 100)}, lambda v, c: money(c, v)),
    "probation_notice": FactSpec({"*": list(range(7, 31))}, lambda v, c: f"{v} calendar days"),
    "notice_period": FactSpec({"*": list(range(4, 13))}, lambda v, c: f"{v} weeks"),
}

MANUAL_FACTS = {
    "max_load": FactSpec({"*": [250, 500, 750, 1000, 1250, 1500, 2000, 2500]}, lambda v, c: f"{v:,} kg"),
    "net_weight": FactSpec({"*": list(range(18, 96))}, lambda v, c: f"{v} kg"),
    "voltage": FactSpec({"*": ["120 V", "230 V", "400 V", "480 V", "24 V DC", "48 V DC"]}, lambda v, c: v),
    "motor_torque": FactSpec({"*": steps(20, 160, 5)}, lambda v, c: f"{v:g} Nm"),
    "line_speed": FactSpec({"*": list(range(4, 17))}, lambda v, c: f"{v} m/min", descending=True),
    "service_interval": FactSpec({"*": [200, 250, 300, 400, 500, 600, 750]}, lambda v, c: f"{v} operating hours"),
    "oil_quantity": FactSpec({"*": steps(0.4, 2.0, 0.1)}, lambda v, c: f"{v:.1f} litres"),
}


def draw_values(rng: random.Random, specs: dict[str, FactSpec], groups: list[tuple[str, int]]) -> list[dict[str, str]]:
    """Fact values for each group of documents (currency, how many), unique per fact across all documents.

    Within a group (one country's years, or the model line) values rise (or fall) in document order.
    """
    out: list[dict[str, str]] = [{} for _ in range(sum(n for _, n in groups))]
    for key, spec in specs.items():
        used: set = set()
        i = 0
        for currency, n in groups:
            pool = [v for v in spec.pools.get(currency, spec.pools.get("*", [])) if v not in used]
            picked = rng.sample(pool, n)
            if not isinstance(picked[0], str):
                picked.sort(reverse=spec.descending)
            used.update(picked)
            for v in picked:
                out[i][key] = spec.write(v, currency)
                i += 1
    return out


# --- drawing ----------------------------------------------------------------------------------------


def para(text: str) -> Paragraph:
    return Paragraph(text, STYLES["BodyText"])


def heading(text: str) -> Paragraph:
    return Paragraph(text, STYLES["Heading2"])


def table(rows: list[list[str]], widths: list[float]) -> Table:
    """A ruled table with a shaded header row; cells wrap."""
    cells = [[Paragraph(f"<b>{c}</b>" if r == 0 else c, CELL) for c in row] for r, row in enumerate(rows)]
    t = Table(cells, colWidths=widths, hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def caption(text: str) -> list[Flowable]:
    return [Spacer(1, 6), Paragraph(f"<b>{text}</b>", STYLES["BodyText"]), Spacer(1, 3)]


def cover(lines: list[str], title: str, contents: list[tuple[str, int]]) -> list[Flowable]:
    """A large title, a few centred lines and a contents table (section, page)."""
    story: list[Flowable] = [Paragraph(title, COVER_TITLE)]
    story += [Paragraph(line, COVER_LINE) for line in lines]
    story += [Spacer(1, 60), heading("Contents")]
    story.append(table([["Section", "Page"]] + [[s, str(p)] for s, p in contents], [300, 60]))
    return story


def write_pdf(doc: Document, path: Path) -> None:
    story: list[Flowable] = []
    for i, page in enumerate(doc.pages):
        story += page.flowables
        if i < len(doc.pages) - 1:
            story.append(PageBreak())

    def decorate(canvas, template) -> None:
        width, height = A4
        canvas.setFont("Helvetica", 8)
        canvas.drawString(56, height - 36, doc.header)
        canvas.line(56, height - 42, width - 56, height - 42)
        canvas.drawCentredString(width / 2, 28, f"Page {template.page}")

    template = SimpleDocTemplate(
        str(path), pagesize=A4, title=doc.title, author=doc.header.split(" · ")[0], invariant=True, topMargin=64
    )
    template.build(story, onFirstPage=decorate, onLaterPages=decorate)


# --- the handbooks ----------------------------------------------------------------------------------

HANDBOOK_SECTIONS = [
    ("1 Welcome", 2),
    ("2 Working hours", 2),
    ("3 Leave", 3),
    ("4 Travel and expenses", 4),
    ("5 Equipment", 5),
    ("6 Learning and development", 6),
    ("7 Conduct", 6),
    ("8 Joining and leaving", 7),
    ("9 Contacts", 7),
]


def handbook_pages(country: Country, year: int, f: dict[str, str]) -> list[Page]:
    """Seven pages; the body never names the country, the entity or the year (cover and header do)."""
    title = f"Employee Handbook {year}"
    lines = [country.entity, f"Effective 1 January {year}", "Issued by Human Resources"]
    return [
        Page(cover(lines, title, HANDBOOK_SECTIONS), []),
        Page(
            [
                heading("1 Welcome"),
                para(
                    "This handbook explains the rules that apply to everyone employed by the company: how we work, "
                    "how we take time off, how we travel and how we treat each other. Where a collective agreement "
                    "or the law grants more favourable terms, those terms apply. Questions about any section go to "
                    "Human Resources."
                ),
                heading("2 Working hours"),
                para(
                    f"<b>Working week.</b> The standard working week is {f['weekly_hours']}, spread over five days "
                    "from Monday to Friday. Part-time arrangements are agreed individually in the employment contract."
                ),
                para(
                    f"<b>Core hours.</b> On working days, employees are available from {f['core_hours']}. Outside "
                    "the core hours, working time is flexible between 07:00 and 20:00, provided the team's service "
                    "commitments are met."
                ),
                para(
                    "<b>Overtime.</b> Overtime must be agreed with your line manager before it is worked. Approved "
                    "overtime is compensated with time off in lieu, one hour for each hour worked."
                ),
                para(
                    "<b>Recording time.</b> All working time is recorded in the time-tracking system by the end of "
                    "each week. Managers review the records monthly."
                ),
            ],
            ["weekly_hours", "core_hours"],
        ),
        Page(
            [
                heading("3 Leave"),
                para(
                    f"<b>Annual leave.</b> Full-time employees are entitled to {f['vacation_days']} of paid annual "
                    "leave per calendar year. Part-time employees receive a pro-rata entitlement, and employees who "
                    "join or leave during the year receive a share for each full month worked."
                ),
                para(
                    "<b>Carrying over.</b> Unused leave may be carried over until 31 March of the following year. "
                    "Leave not taken by then lapses, unless it could not be taken because of illness or parental "
                    "leave."
                ),
                para(
                    "<b>Requesting leave.</b> Request leave in the HR portal at least two weeks in advance. Your line "
                    "manager confirms the request or proposes other dates."
                ),
                para(
                    "<b>Sickness.</b> If you are ill, tell your line manager before the start of the working day. A "
                    "medical certificate is required from the fourth day of absence."
                ),
                para(
                    "<b>Family leave.</b> Maternity, paternity and parental leave follow the statutory rules. Human "
                    "Resources explains the options and the pay during leave."
                ),
                para(
                    "<b>Public holidays.</b> The statutory public holidays at your place of work are paid days off "
                    "and are not deducted from annual leave."
                ),
            ],
            ["vacation_days", "g_carry_over", "g_sick_certificate"],
        ),
        Page(
            [
                heading("4 Travel and expenses"),
                para(
                    "<b>Approval.</b> All business travel must be approved in advance by your line manager. Trips "
                    "abroad of more than five days also need the approval of the head of department."
                ),
                para(
                    "<b>Booking.</b> Book transport and accommodation through the company travel portal. Rail "
                    "journeys are booked in second class and flights in economy class; the cheapest reasonable "
                    "option is chosen."
                ),
                para(
                    f"<b>Meal allowance.</b> For each full calendar day away from your usual place of work you "
                    f"receive a daily meal allowance of {f['meal_allowance']}. For shorter trips, the share in the "
                    "table below applies. Meals paid by the company or by a customer are deducted."
                ),
                *caption("Travel allowance by trip length"),
                table(
                    [
                        ["Trip length", "Meal allowance"],
                        ["Less than 8 hours", "No allowance"],
                        ["8 to 24 hours, no overnight stay", "50% of the daily rate"],
                        ["Day of arrival or departure", "50% of the daily rate"],
                        ["Full calendar day", "100% of the daily rate"],
                        ["Breakfast provided", "Deduct 20% of the daily rate"],
                    ],
                    [220, 200],
                ),
            ],
            ["meal_allowance", "g_travel_approval", "g_rail_class", "g_short_trip"],
        ),
        Page(
            [
                heading("4 Travel and expenses (continued)"),
                para("Accommodation, private car use and local transport are reimbursed at the following rates."),
                *caption("Reimbursement rates"),
                table(
                    [
                        ["Item", "Rate"],
                        ["Hotel, per night (maximum)", f["hotel_ceiling"]],
                        ["Private car, per kilometre", f["mileage_rate"]],
                        ["Taxi, parking and tolls", "Actual cost, with receipt"],
                        ["Public transport", "Actual cost, with receipt"],
                    ],
                    [220, 200],
                ),
                Spacer(1, 6),
                para(
                    "<b>Expense claims.</b> Submit expense claims with receipts in the expense system within 30 days "
                    "of the end of the trip. Later claims are reimbursed only with the approval of Finance."
                ),
                heading("5 Equipment"),
                para(
                    f"<b>Laptops.</b> Every employee receives a laptop, a headset and a phone if the role needs one. "
                    f"Laptops are replaced every {f['laptop_cycle']}, or earlier when they can no longer be repaired."
                ),
                para(
                    f"<b>Home office.</b> Employees who work from home regularly receive a home-office allowance of "
                    f"{f['home_office']} per month towards internet, electricity and furniture."
                ),
                para(
                    "<b>Lost or stolen equipment.</b> Report lost or stolen equipment to the IT Service Desk within "
                    "24 hours, so that access can be blocked."
                ),
            ],
            ["hotel_ceiling", "mileage_rate", "laptop_cycle", "home_office", "g_expense_deadline", "g_lost_equipment"],
        ),
        Page(
            [
                heading("6 Learning and development"),
                para(
                    f"<b>Training budget.</b> Each employee has an annual training budget of {f['training_budget']} "
                    "for courses, conferences and certifications agreed in the yearly development review."
                ),
                para("<b>Mentoring.</b> New employees are offered a mentor from another team for their first year."),
                heading("7 Conduct"),
                para(
                    f"<b>Gifts and hospitality.</b> You may accept gifts with a value of up to {f['gift_limit']}. "
                    "Anything above that must be declared and, as a rule, politely declined."
                ),
                para(
                    "<b>Conflicts of interest.</b> Any situation in which your personal interests could conflict "
                    "with those of the company must be reported to the Compliance Office."
                ),
                para(
                    "<b>Speaking up.</b> Concerns about misconduct can be raised with your line manager, with Human "
                    "Resources or anonymously through the Speak Up line. Nobody who raises a concern in good faith "
                    "will suffer any disadvantage."
                ),
                para(
                    "<b>Confidentiality.</b> Information about customers, colleagues and the company is shared only "
                    "with those who need it for their work, during and after employment."
                ),
            ],
            ["training_budget", "gift_limit", "g_conflict_of_interest"],
        ),
        Page(
            [
                heading("8 Joining and leaving"),
                para(
                    "<b>Probation.</b> New employees serve a probation period of six months, during which the "
                    "line manager holds a review meeting at least every two months."
                ),
                para(
                    f"<b>Notice during probation.</b> During probation, either party may end the employment with a "
                    f"notice period of {f['probation_notice']}."
                ),
                para(
                    f"<b>Notice after probation.</b> After probation, the notice period is {f['notice_period']} for "
                    "both parties, unless the employment contract or a collective agreement provides a longer one."
                ),
                para(
                    "<b>Leaving.</b> On your last working day, return all equipment, badges and documents to your "
                    "line manager. Human Resources issues a reference on request."
                ),
                heading("9 Contacts"),
                para(
                    "Human Resources: hr@contoso.example. IT Service Desk: servicedesk@contoso.example. Compliance "
                    "Office and Speak Up line: compliance@contoso.example."
                ),
            ],
            ["probation_notice", "notice_period", "g_probation"],
        ),
    ]


def handbooks(rng: random.Random) -> list[Document]:
    groups = [(c.currency, len(YEARS)) for c in COUNTRIES]
    values = iter(draw_values(rng, HANDBOOK_FACTS, groups))
    docs = []
    for country in COUNTRIES:
        for year in YEARS:
            facts = next(values)
            docs.append(
                Document(
                    family="handbook",
                    file=f"contoso-handbook-{country.slug}-{year}.pdf",
                    title=f"Employee Handbook {year}",
                    header=f"{country.entity} · Employee Handbook {year}",
                    pages=handbook_pages(country, year, facts),
                    facts=facts,
                    names={
                        "country": country.name,
                        "adj": country.adjective,
                        "entity": country.entity,
                        "short": country.short,
                        "year": str(year),
                    },
                    forbidden=[str(y) for y in YEARS]
                    + [w for c in COUNTRIES for w in (c.name, c.adjective, c.short.split()[-1])],
                )
            )
    return docs


# --- the manuals ------------------------------------------------------------------------------------

MANUAL_SECTIONS = [
    ("1 Safety", 2),
    ("2 Installation", 3),
    ("3 Operation", 3),
    ("4 Maintenance", 4),
    ("5 Specifications", 5),
    ("6 Troubleshooting", 6),
    ("7 Service and warranty", 6),
]


def manual_pages(model: str, f: dict[str, str]) -> list[Page]:
    """Six pages; the body says "the winch", never the model (cover and header do)."""
    lines = ["Electric Winch", "Operating and Maintenance Manual", "Fabrikam Ltd", "Revision C"]
    return [
        Page(cover(lines, f"Fabrikam {model}", MANUAL_SECTIONS), []),
        Page(
            [
                heading("1 Safety"),
                para(
                    "Read this manual completely before installing, operating or maintaining the winch, and keep "
                    "it near the winch for later reference."
                ),
                para(
                    "<b>Qualified persons.</b> Only trained and authorised persons may install, operate or maintain "
                    "the winch. Operators must be familiar with the controls and the emergency stop."
                ),
                para(
                    "<b>Loads.</b> Never exceed the rated load shown on the rating plate and in the specifications. "
                    "Never stand or work under a suspended load, and never use the winch to lift people."
                ),
                para(
                    "<b>Rope.</b> Keep at least five turns of rope on the drum at all times. Wear gloves when "
                    "handling the rope and replace it when it shows broken wires, kinks or corrosion."
                ),
                para(
                    "<b>Emergency stop.</b> Press the red emergency stop button to stop all movement immediately. "
                    "Release it by turning it clockwise once the cause has been removed."
                ),
            ],
            ["g_qualified_persons"],
        ),
        Page(
            [
                heading("2 Installation"),
                para(
                    "<b>Mounting.</b> Mount the winch on a rigid, level base able to carry four times the rated "
                    "load, using the four bolts supplied, tightened crosswise."
                ),
                para(
                    f"<b>Electrical connection.</b> The winch is designed for a supply voltage of {f['voltage']}. "
                    "The connection must be made by a qualified electrician, with a protective earth and an "
                    "isolator within reach of the operator."
                ),
                para(
                    "<b>First run.</b> Before the first lift, run the winch without load in both directions and "
                    "check that the limit switches stop the drum."
                ),
                heading("3 Operation"),
                para(
                    "<b>Controls.</b> The pendant has an up button, a down button and the emergency stop. The "
                    "winch moves only while a button is held."
                ),
                para(
                    f"<b>Line speed.</b> At rated load, the rope moves at {f['line_speed']}. Without load the speed "
                    "is slightly higher."
                ),
                para(
                    "<b>Overload protection.</b> A load limiter stops lifting when the load exceeds the rated load "
                    "by more than ten percent; lowering remains possible."
                ),
            ],
            ["voltage", "line_speed"],
        ),
        Page(
            [
                heading("4 Maintenance"),
                para(
                    "<b>Before any maintenance work,</b> disconnect the power supply and lock the isolator in the off "
                    "position, and lower any load to the ground."
                ),
                para(
                    "<b>Daily checks.</b> Inspect the wire rope before every shift for broken wires, kinks and "
                    "corrosion, and test the brake and the emergency stop."
                ),
                para(
                    f"<b>Service interval.</b> A full service by an authorised technician is due every "
                    f"{f['service_interval']}, or once a year, whichever comes first."
                ),
                para(
                    f"<b>Gearbox oil.</b> Change the gearbox oil at every full service. The gearbox takes "
                    f"{f['oil_quantity']} of ISO VG 220 gear oil; fill it through the upper plug until oil appears at "
                    "the level plug."
                ),
                para(
                    "<b>Brake.</b> The brake is maintenance-free. If the load creeps down while the winch is stopped, "
                    "follow the troubleshooting table."
                ),
            ],
            ["service_interval", "oil_quantity", "g_before_maintenance", "g_rope_inspection"],
        ),
        Page(
            [
                heading("5 Specifications"),
                para("The values below apply at an ambient temperature of 20 °C and the nominal supply voltage."),
                Spacer(1, 6),
                table(
                    [
                        ["Property", "Value"],
                        ["Rated (maximum) load", f["max_load"]],
                        ["Net weight without rope", f["net_weight"]],
                        ["Motor torque", f["motor_torque"]],
                        ["Rope diameter", "8 mm"],
                        ["Protection class", "IP55"],
                        ["Ambient temperature", "-20 °C to +40 °C"],
                        ["Duty cycle", "S3 40%"],
                    ],
                    [220, 200],
                ),
            ],
            ["max_load", "net_weight", "motor_torque", "g_protection_class"],
        ),
        Page(
            [
                heading("6 Troubleshooting"),
                table(
                    [
                        ["Symptom", "Cause", "Remedy"],
                        ["Winch does not start", "No power, isolator off", "Check the supply and the isolator"],
                        ["Error code E02", "Load limiter tripped", "Reduce the load"],
                        ["Error code E03", "Motor overheating", "Let the motor cool down for 30 minutes"],
                        ["Load creeps down", "Brake slips", "Stop using the winch and contact Fabrikam service"],
                        ["Unusual noise", "Low gearbox oil", "Check the oil level"],
                    ],
                    [130, 130, 200],
                ),
                heading("7 Service and warranty"),
                para(
                    "Fabrikam Ltd grants a warranty of two years from delivery on material and manufacturing "
                    "defects. The warranty requires that services are carried out at the stated interval by an "
                    "authorised technician. Spare parts and service: service@fabrikam.example."
                ),
            ],
            ["g_error_e03"],
        ),
    ]


def model_names(number: int) -> dict[str, str]:
    return {
        "m": f"the HX-{number}",
        "m_full": f"the Fabrikam HX-{number}",
        "m_joined": f"the HX{number}",
        "m_bare": f"the {number} model",
        "t": f"HX-{number}",
        "t_full": f"Fabrikam HX-{number}",
        "t_joined": f"HX{number}",
        "t_bare": f"Model {number}",
    }


def manuals(rng: random.Random) -> list[Document]:
    values = draw_values(rng, MANUAL_FACTS, [("*", len(MODELS))])
    docs = []
    for number, facts in zip(MODELS, values):
        model = f"HX-{number}"
        docs.append(
            Document(
                family="manual",
                file=f"fabrikam-hx-{number}-manual.pdf",
                title=f"Fabrikam {model} Operating and Maintenance Manual",
                header=f"Fabrikam Ltd · {model} Operating Manual",
                pages=manual_pages(model, facts),
                facts=facts,
                names=model_names(number),
                forbidden=["HX"],
            )
        )
    return docs


# --- questions --------------------------------------------------------------------------------------

HANDBOOK_QUESTIONS = {
    "weekly_hours": [
        "How many hours is the standard working week in {country} in {year}?",
        "What is the standard weekly working time for {adj} staff in {year}?",
        "{short} {year}: standard working week?",
    ],
    "core_hours": [
        "What are the core hours in the {country} handbook for {year}?",
        "Between which times must {adj} employees be available in {year}?",
        "When are the core hours at {entity} in {year}?",
    ],
    "vacation_days": [
        "How many vacation days do employees in {country} get in {year}?",
        "What is the annual leave entitlement in the {year} {adj} handbook?",
        "{short} {year}: how many days of paid annual leave?",
    ],
    "meal_allowance": [
        "What is the daily meal allowance in the {country} handbook for {year}?",
        "How much meal allowance per full travel day do {adj} employees receive in {year}?",
        "{entity} {year}: daily meal allowance?",
    ],
    "hotel_ceiling": [
        "What is the maximum hotel rate per night in the {country} travel policy for {year}?",
        "How much may {adj} employees spend on a hotel per night in {year}?",
        "{short} {year}: hotel limit per night?",
    ],
    "mileage_rate": [
        "What is the mileage rate for private cars in {country} in {year}?",
        "How much is reimbursed per kilometre driven with a private car at {entity} in {year}?",
        "{short} {year}: mileage rate?",
    ],
    "home_office": [
        "How much is the monthly home-office allowance in {country} in {year}?",
        "What home-office allowance do {adj} employees receive in {year}?",
        "{short} {year}: home-office allowance per month?",
    ],
    "laptop_cycle": [
        "How often are laptops replaced according to the {country} handbook for {year}?",
        "What is the laptop replacement cycle at {entity} in {year}?",
        "{short} {year}: laptop replacement interval?",
    ],
    "training_budget": [
        "What is the annual training budget per employee in {country} in {year}?",
        "How large is the yearly training budget for {adj} employees in {year}?",
        "{short} {year}: training budget per employee?",
    ],
    "gift_limit": [
        "Up to what value may employees in {country} accept gifts in {year}?",
        "What is the gift limit in the {year} {adj} handbook?",
        "{short} {year}: maximum value of gifts that may be accepted?",
    ],
    "probation_notice": [
        "What is the notice period during probation in {country} in {year}?",
        "How much notice applies during the probation period at {entity} in {year}?",
        "{short} {year}: notice period during probation?",
    ],
    "notice_period": [
        "What is the notice period after probation in the {country} handbook for {year}?",
        "How long is the notice period for {adj} employees after probation in {year}?",
        "{short} {year}: notice period after the probation period?",
    ],
}

MANUAL_QUESTIONS = {
    "max_load": ["What is the maximum load of {m}?", "How much can {m} lift at most?", "{t}: rated load?"],
    "net_weight": ["How much does {m} weigh?", "What is the net weight of {m}?", "{t}: net weight?"],
    "voltage": ["What supply voltage does {m} need?", "Which mains voltage is {m} designed for?", "{t}: supply voltage?"],
    "motor_torque": ["What is the motor torque of {m}?", "How much torque does the motor of {m} deliver?", "{t}: motor torque?"],
    "line_speed": [
        "How fast does the rope of {m} move at rated load?",
        "What is the line speed of {m}?",
        "{t}: line speed at rated load?",
    ],
    "service_interval": [
        "How often does {m} need a full service?",
        "What is the service interval of {m}?",
        "{t}: service interval?",
    ],
    "oil_quantity": [
        "How much gearbox oil does {m} take?",
        "What quantity of gear oil is needed for {m}?",
        "{t}: gearbox oil quantity?",
    ],
}

# Wording shared by every document of a family: (family, key on a page, question, answer).
SHARED_QUESTIONS = [
    ("handbook", "g_travel_approval", "Who approves business travel?", "your line manager"),
    ("handbook", "g_rail_class", "In which class are business trips by rail booked?", "second class"),
    (
        "handbook",
        "g_short_trip",
        "What share of the daily rate is paid for a trip of 8 to 24 hours without an overnight stay?",
        "50% of the daily rate",
    ),
    ("handbook", "g_expense_deadline", "By when must expense claims be submitted?", "within 30 days of the end of the trip"),
    ("handbook", "g_carry_over", "Until when can unused annual leave be carried over?", "31 March of the following year"),
    ("handbook", "g_sick_certificate", "From which day of sickness is a medical certificate required?", "fourth day of absence"),
    ("handbook", "g_conflict_of_interest", "To whom must a conflict of interest be reported?", "the Compliance Office"),
    ("handbook", "g_probation", "How long is the probation period for new employees?", "six months"),
    ("handbook", "g_lost_equipment", "How quickly must lost or stolen equipment be reported?", "within 24 hours"),
    (
        "manual",
        "g_before_maintenance",
        "What must be done before any maintenance work on the winch?",
        "disconnect the power supply and lock the isolator",
    ),
    ("manual", "g_qualified_persons", "Who may install, operate or maintain the winch?", "trained and authorised persons"),
    ("manual", "g_error_e03", "What does error code E03 on the winch mean?", "Motor overheating"),
    ("manual", "g_rope_inspection", "How often should the wire rope of the winch be inspected?", "before every shift"),
    ("manual", "g_protection_class", "What is the protection class of the winch?", "IP55"),
]


def page_of(doc: Document, key: str) -> int:
    pages = [i + 1 for i, page in enumerate(doc.pages) if key in page.facts]
    if len(pages) != 1:
        raise ValueError(f"{doc.file}: {key} is on pages {pages}, expected exactly one")
    return pages[0]


def record(doc: Document, question: str, answer: str, page: int, fact: str, names_document: bool) -> dict:
    return {
        "question": question,
        "answer": answer,
        "doc": f"pdfs/{doc.file}",
        "page": page,
        "evidence_pages": [page],
        "names_document": names_document,
        "family": doc.family,
        "fact": fact,
    }


def manual_template_names(names: dict[str, str], rng: random.Random) -> dict[str, str]:
    """One naming style per question: "the HX-200", "the Fabrikam HX-200", "the HX200" or "the 200 model"."""
    style = rng.choice(["", "_full", "_joined", "_bare"])
    return {"m": names["m" + style], "t": names["t" + style]}


def document_questions(doc: Document, rng: random.Random) -> list[dict]:
    templates = HANDBOOK_QUESTIONS if doc.family == "handbook" else MANUAL_QUESTIONS
    out = []
    for key, phrasings in templates.items():
        names = doc.names if doc.family == "handbook" else manual_template_names(doc.names, rng)
        question = rng.choice(phrasings).format(**names)
        out.append(record(doc, question, doc.facts[key], page_of(doc, key), key, True))
    return out


def questions(docs: list[Document], rng: random.Random) -> list[dict]:
    out = [q for doc in docs for q in document_questions(doc, rng)]
    for family, key, question, answer in SHARED_QUESTIONS:
        first = next(d for d in docs if d.family == family)
        out.append(record(first, question, answer, page_of(first, key), key, False))
    rng.shuffle(out)  # mixed order, so that --limit takes a sample of every family and naming style
    return [{"id": f"neardup-{i:03d}", **q} for i, q in enumerate(out, 1)]


# --- verification -----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    return " ".join(text.split())


def occurs(answer: str, text: str) -> bool:
    """`answer` in `text` as a whole value: "EUR 30" is not in "EUR 300" or "EUR 30.50"."""
    return re.search(rf"(?<![\w.,]){re.escape(normalise(answer))}(?![\w]|[.,]\d)", text, re.IGNORECASE) is not None


def page_texts(pdfs: Path, docs: list[Document]) -> dict[str, list[str]]:
    texts = {}
    for doc in docs:
        pages = [normalise(p.extract_text() or "") for p in PdfReader(pdfs / doc.file).pages]
        if len(pages) != len(doc.pages):
            raise SystemExit(f"{doc.file}: {len(pages)} pages drawn, {len(doc.pages)} laid out (a page overflowed)")
        texts[doc.file] = pages
    return texts


def layout_problems(docs: list[Document], texts: dict[str, list[str]]) -> list[str]:
    """Every page has the running header and its number; no body page names its document's subject."""
    problems = []
    for doc in docs:
        header = normalise(doc.header)
        for n, text in enumerate(texts[doc.file], 1):
            if header not in text or f"Page {n}" not in text:
                problems.append(f"{doc.file} p{n}: running header or page number missing")
            body = text.replace(header, " ")
            hits = [w for w in doc.forbidden if n > 1 and re.search(rf"\b{re.escape(w)}", body)]
            if hits:
                problems.append(f"{doc.file} p{n}: body names {hits}")
    return problems


def question_problems(docs: list[Document], qs: list[dict], texts: dict[str, list[str]]) -> list[str]:
    """Answers on their pages; a document's own answer nowhere else; shared wording on one page number per family."""
    problems = []
    for q in qs:
        file, page, answer = Path(q["doc"]).name, q["page"], q["answer"]
        where = [(f, n) for f, pages in texts.items() for n, text in enumerate(pages, 1) if occurs(answer, text)]
        if (file, page) not in where:
            problems.append(f"{q['id']}: {answer!r} not on page {page} of {file}")
        elif q["names_document"] and where != [(file, page)]:
            problems.append(f"{q['id']}: {answer!r} also on {[w for w in where if w != (file, page)]}")
        elif not q["names_document"]:
            family = [d.file for d in docs if d.family == q["family"]]
            missing = [f for f in family if (f, page) not in where]
            if missing:
                problems.append(f"{q['id']}: shared answer {answer!r} not on page {page} of {missing}")
    return problems


def verify(pdfs: Path, docs: list[Document], qs: list[dict]) -> int:
    """Check the PDFs against the layout and the questions; exit with the problems found. Returns the page count."""
    texts = page_texts(pdfs, docs)
    problems = layout_problems(docs, texts) + question_problems(docs, qs, texts)
    if problems:
        raise SystemExit("verification failed:\n  " + "\n  ".join(problems))
    return sum(len(pages) for pages in texts.values())


# --- main -------------------------------------------------------------------------------------------


def generate(out: Path, seed: int) -> dict:
    t0 = time.perf_counter()
    rng = random.Random(seed)
    docs = handbooks(rng) + manuals(rng)
    qs = questions(docs, rng)
    pdfs = out / "pdfs"
    pdfs.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        write_pdf(doc, pdfs / doc.file)
    with open(out / "questions.jsonl", "w", encoding="utf-8") as f:
        for q in qs:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    pages = verify(pdfs, docs, qs)
    return {
        "documents": len(docs),
        "handbooks": sum(d.family == "handbook" for d in docs),
        "manuals": sum(d.family == "manual" for d in docs),
        "pages": pages,
        "questions": len(qs),
        "naming_a_document": sum(q["names_document"] for q in qs),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Output folder: pdfs/ and questions.jsonl are written here.")
    parser.add_argument("--seed", type=int, default=0, help="Seed for the fact values and the question phrasings.")
    args = parser.parse_args(argv)
    s = generate(args.out, args.seed)
    print(
        f"{s['documents']} documents ({s['handbooks']} handbooks, {s['manuals']} manuals), {s['pages']} pages, "
        f"{s['questions']} questions ({s['naming_a_document']} naming their document, "
        f"{s['questions'] - s['naming_a_document']} not), verified, {s['seconds']}s -> {args.out}"
    )


if __name__ == "__main__":
    sys.exit(main())
