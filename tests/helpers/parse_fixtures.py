"""Parser-quality fixtures: generated documents whose truth HTML is known exactly, for `rag eval parse DIR`.

`build_fixtures(out_dir)` writes pairs `NAME.pdf|png` + `NAME.truth.html`. Every document is drawn with reportlab from
Python data, and its truth is built from that same data (never by reading the PDF back): headings h1 (title only),
h2, h3; paragraphs; list items in ul/ol; tables with thead/tbody and colspan/rowspan; figures as <figure> with a
<figcaption>; running heads and page numbers inside <header>/<footer> (excluded from the text comparison).
Which page each block landed on comes from reportlab's own layout (`afterFlowable`), so multi-page truth is exact.
Scans are rasterised copies of page 1 of `article-2col` and of `table-ruled` (150/200/300 dpi image-only PDFs, and
200 dpi PNGs turned 90 and 180 degrees, skewed 3 degrees, or with gaussian noise); their truth is that page's truth.
Figures contain no text of their own, so their truth is the caption alone.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, FrameBreak, NextPageTemplate, PageTemplate, Paragraph, Spacer
from reportlab.platypus import Table as RLTable
from reportlab.platypus.flowables import BalancedColumns

_SS = getSampleStyleSheet()
BODY = ParagraphStyle(
    "fx-body",
    parent=_SS["BodyText"],
    fontName="Times-Roman",
    fontSize=10,
    leading=13,
    alignment=TA_JUSTIFY,
    spaceBefore=0,
    spaceAfter=6,
)
STYLES = {
    "h1": ParagraphStyle("fx-h1", parent=_SS["Title"], fontSize=20, leading=24, spaceAfter=6),
    "h2": ParagraphStyle("fx-h2", parent=_SS["Heading2"], spaceBefore=8, spaceAfter=4, keepWithNext=1),
    "h3": ParagraphStyle("fx-h3", parent=_SS["Heading3"], fontSize=11, leading=14, spaceBefore=6, spaceAfter=3, keepWithNext=1),
    "p": BODY,
    "ul": ParagraphStyle("fx-li", parent=BODY, leftIndent=16, bulletIndent=5, spaceAfter=3, alignment=0),
    "ol": ParagraphStyle("fx-oli", parent=BODY, leftIndent=18, bulletIndent=3, spaceAfter=3, alignment=0),
    "caption": ParagraphStyle(
        "fx-cap", parent=BODY, fontName="Times-Italic", fontSize=9, leading=11, alignment=TA_CENTER, spaceBefore=4, spaceAfter=8
    ),
    "tcaption": ParagraphStyle(
        "fx-tcap", parent=BODY, fontName="Helvetica-Bold", fontSize=9, leading=11, alignment=0, spaceBefore=4, spaceAfter=4
    ),
}
CELL = ParagraphStyle("fx-cell", parent=BODY, fontName="Helvetica", fontSize=9, leading=11, alignment=0, spaceAfter=0)
SCAN_DPIS = (150, 200, 300)


# ---- truth model -------------------------------------------------------------------------------------------------


@dataclass
class TableData:
    """A grid of cell texts (reportlab needs the full grid: covered cells are ""), its header rows and spans."""

    rows: list[list[str]]
    head_rows: int = 1
    spans: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # (row, col) -> (rowspan, colspan)
    caption: str = ""
    wrap: set[tuple[int, int]] = field(default_factory=set)  # cells drawn as a wrapping Paragraph

    def covered(self) -> set[tuple[int, int]]:
        return {(r + i, c + j) for (r, c), (rs, cs) in self.spans.items() for i in range(rs) for j in range(cs) if i or j}

    def span_commands(self) -> list[tuple]:
        return [("SPAN", (c, r), (c + cs - 1, r + rs - 1)) for (r, c), (rs, cs) in self.spans.items()]

    def html(self, body: slice = slice(None), caption: bool = True) -> str:
        """The truth table: header rows in thead (th), the `body` slice of the other rows in tbody (td)."""
        covered = self.covered()

        def row(r: int, tag: str) -> str:
            cells = []
            for c, text in enumerate(self.rows[r]):
                if (r, c) in covered:
                    continue
                rs, cs = self.spans.get((r, c), (1, 1))
                attrs = (f' colspan="{cs}"' if cs > 1 else "") + (f' rowspan="{rs}"' if rs > 1 else "")
                cells.append(f"<{tag}{attrs}>{escape(text, quote=False)}</{tag}>")
            return "<tr>" + "".join(cells) + "</tr>"

        body_rows = list(range(len(self.rows)))[self.head_rows :][body]
        cap = f"<caption>{escape(self.caption, quote=False)}</caption>" if caption and self.caption else ""
        head = "".join(row(r, "th") for r in range(self.head_rows))
        return f"<table>{cap}<thead>{head}</thead><tbody>" + "".join(row(r, "td") for r in body_rows) + "</tbody></table>"


@dataclass
class Item:
    """One truth block: tag h1|h2|h3|p|ul|ol (a list item)|table|figure|formula, with its text or table.

    `aside`: the block belongs to a sidebar; consecutive sidebar blocks are wrapped in one <aside>.
    """

    tag: str
    text: str = ""
    table: TableData | None = None
    aside: bool = False


def _html_items(items: list[Item], tables: dict[int, list[str]], ids: list[int]) -> list[str]:
    lines, open_list, in_aside = [], "", False
    for i in ids:
        item = items[i]
        want = item.tag if item.tag in ("ul", "ol") else ""
        if open_list and (want != open_list or item.aside != in_aside):
            lines.append(f"</{open_list}>")
            open_list = ""
        if item.aside != in_aside:
            lines.append("<aside>" if item.aside else "</aside>")
            in_aside = item.aside
        if want and not open_list:
            lines.append(f"<{want}>")
            open_list = want
        text = escape(item.text, quote=False)
        if item.tag == "table":
            lines.extend(tables[i])
        elif item.tag == "figure":
            lines.append(f"<figure><figcaption>{text}</figcaption></figure>")
        elif item.tag == "formula":
            lines.append(f'<p class="formula">{text}</p>')
        elif want:
            lines.append(f"  <li>{text}</li>")
        else:
            lines.append(f"<{item.tag}>{text}</{item.tag}>")
    if open_list:
        lines.append(f"</{open_list}>")
    if in_aside:
        lines.append("</aside>")
    return lines


@dataclass
class Rendered:
    """What a build produced: truth blocks per page (ids into `items`), per-page table HTML, running heads."""

    items: list[Item]
    pages: dict[int, list[int]]
    tables: dict[int, dict[int, list[str]]]  # page -> item id -> table HTML (one per part on that page)
    marks: dict[int, tuple[str, str]]  # page -> (header, footer)

    def truth(self, doc_name: str, only: list[int] | None = None) -> str:
        numbers = only or sorted(self.marks)
        out = [f'<article data-doc="{escape(doc_name)}" data-pages="{len(numbers)}">']
        for n in numbers:
            out.append(f'<section data-page="{n}">')
            header, footer = self.marks.get(n, ("", ""))
            if header:
                out.append(f"<header>{escape(header, quote=False)}</header>")
            out.extend(_html_items(self.items, self.tables.get(n, {}), self.pages.get(n, [])))
            if footer:
                out.append(f"<footer>{escape(footer, quote=False)}</footer>")
            out.append("</section>")
        out.append("</article>")
        return "\n".join(out) + "\n"


# ---- rendering ---------------------------------------------------------------------------------------------------


class _P(Paragraph):
    """A Paragraph that keeps its truth id through splits."""

    truth_id: int | None = None

    def split(self, availWidth, availHeight):
        parts = super().split(availWidth, availHeight)
        for part in parts:
            part.truth_id = self.truth_id
        return parts


class _T(RLTable):
    truth_id: int | None = None

    def split(self, availWidth, availHeight):
        parts = super().split(availWidth, availHeight)
        for part in parts:
            part.truth_id = self.truth_id
        return parts


class _Box(Flowable):
    """Wraps a reportlab.graphics Drawing (which rejects unknown attributes) so it can carry a truth id."""

    def __init__(self, drawing):
        super().__init__()
        self.drawing, self.truth_id = drawing, None

    def wrap(self, availWidth, availHeight):
        return self.drawing.wrap(availWidth, availHeight)

    def draw(self):
        self.drawing.drawOn(self.canv, 0, 0)


class Story:
    """Flowables and their truth items, built side by side from the same strings."""

    def __init__(self):
        self.flowables: list = []
        self.items: list[Item] = []

    def _item(self, item: Item) -> int:
        self.items.append(item)
        return len(self.items) - 1

    def para(self, tag: str, text: str, bullet: str | None = None, style: ParagraphStyle | None = None) -> _P:
        text = " ".join(text.split())
        p = _P(escape(text, quote=False), style or STYLES[tag], bulletText=bullet)
        p.truth_id = self._item(Item(tag, text))
        return p

    def add(self, tag: str, *texts: str) -> None:
        for i, text in enumerate(texts, 1):
            bullet = "\u2022" if tag == "ul" else f"{i}." if tag == "ol" else None
            self.flowables.append(self.para(tag, text, bullet))

    def table(self, data: TableData, col_widths, style: list, repeat: int = 0) -> _T:
        tid = self._item(Item("table", table=data))
        if data.caption:
            cap = _P(escape(data.caption, quote=False), STYLES["tcaption"])
            cap.truth_id = tid
            self.flowables.append(cap)
        grid = [
            [_P(escape(t, quote=False), CELL) if (r, c) in data.wrap else t for c, t in enumerate(row)]
            for r, row in enumerate(data.rows)
        ]
        t = _T(grid, colWidths=col_widths, repeatRows=repeat, style=style + data.span_commands(), hAlign="LEFT")
        t.truth_id = tid
        self.flowables.append(t)
        return t

    def figure(self, flowable, caption: str) -> None:
        fid = self._item(Item("figure", " ".join(caption.split())))
        flowable.truth_id = fid
        cap = _P(escape(self.items[fid].text, quote=False), STYLES["caption"])
        cap.truth_id = fid
        self.flowables += [flowable, cap]


class _Doc(BaseDocTemplate):
    """Records on which page every tracked flowable (or part of a split one) was drawn."""

    def __init__(self, *args, **kw):
        super().__init__(*args, invariant=1, **kw)
        self.placed: list[tuple[int, int, object]] = []
        self.marks: dict[int, tuple[str, str]] = {}

    def afterFlowable(self, flowable):
        ids = getattr(flowable, "truth_ids", None) or [getattr(flowable, "truth_id", None)]
        for i in ids:
            if i is not None:
                self.placed.append((i, self.page, flowable))
            elif isinstance(flowable, (Paragraph, RLTable, BalancedColumns, _Box)):
                raise RuntimeError(f"untracked flowable on page {self.page}: {flowable!r:.80}")


def running(header: str, footer: str):
    """An onPage callback drawing a running head (with a rule) and a footer; '{page}' in either is the page number."""

    def draw(canvas, doc):
        w, h = doc.pagesize
        top, bottom = header.format(page=doc.page), footer.format(page=doc.page)
        canvas.saveState()
        if top:
            canvas.setFont("Helvetica", 8)
            canvas.drawString(doc.leftMargin, h - 34, top)
            canvas.setLineWidth(0.5)
            canvas.line(doc.leftMargin, h - 39, w - doc.rightMargin, h - 39)
        if bottom:
            canvas.setFont("Helvetica", 8)
            canvas.drawCentredString(w / 2, 28, bottom)
        canvas.restoreState()
        doc.marks[doc.page] = (top, bottom)

    return draw


def render(path: Path, story: Story, templates: list[PageTemplate], pagesize=A4, max_tries: int = 5) -> Rendered:
    """Build the PDF; a block (other than a table) that would straddle two pages gets a frame break before it."""
    flowables = list(story.flowables)
    for _ in range(max_tries):
        for f in flowables:
            f.__dict__.pop("keepWithNext", None)  # reportlab clears it on the flowables it kept together
        doc = _Doc(
            str(path),
            pagesize=pagesize,
            leftMargin=54,
            rightMargin=54,
            topMargin=56,
            bottomMargin=50,
            title=path.stem,
            author="grounded-rag fixtures",
        )
        doc.addPageTemplates(templates)
        doc.build(list(flowables))
        pages: dict[int, set[int]] = {}
        for i, page, _f in doc.placed:
            pages.setdefault(i, set()).add(page)
        straddling = [i for i, ps in pages.items() if len(ps) > 1 and story.items[i].tag != "table"]
        if not straddling:
            break
        first = next(f for f in flowables if getattr(f, "truth_id", None) == straddling[0])
        flowables.insert(flowables.index(first), FrameBreak())
    else:
        raise RuntimeError(f"{path.name}: blocks still straddle pages: {straddling}")
    missing = set(range(len(story.items))) - set(pages)
    if missing:
        raise RuntimeError(f"{path.name}: blocks never drawn: {sorted(missing)}")
    by_page: dict[int, list[int]] = {}
    tables: dict[int, dict[int, list[str]]] = {}
    for i, item in enumerate(story.items):
        by_page.setdefault(min(pages[i]), []).append(i)
        if item.tag != "table":
            continue
        parts = [(page, f) for j, page, f in doc.placed if j == i and isinstance(f, RLTable)]
        start, data = 0, item.table
        for k, (page, part) in enumerate(parts):
            n_body = len(part._cellvalues) - (data.head_rows if k == 0 else part.repeatRows)
            html = data.html(slice(start, start + n_body), caption=k == 0)
            tables.setdefault(page, {}).setdefault(i, []).append(html)
            by_page.setdefault(page, [])
            if i not in by_page[page]:
                by_page[page].append(i)
            start += n_body
    for ids in by_page.values():
        ids.sort()
    return Rendered(story.items, by_page, tables, dict(doc.marks))


def _frame(fid: str, x, y, w, h) -> Frame:
    return Frame(x, y, w, h, id=fid, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)


def _single(pagesize, header: str, footer: str) -> list[PageTemplate]:
    w, h = pagesize
    return [PageTemplate("one", [_frame("body", 54, 50, w - 108, h - 106)], onPage=running(header, footer))]


# ---- the fixtures ------------------------------------------------------------------------------------------------

ARTICLE_2COL = [
    ("h2", "1. Summary"),
    (
        "p",
        "Total abstraction from the four supply reservoirs was 41,870 megalitres (Ml) in the quarter to 30 September "
        "2024, a change of -3.2% on the same quarter of 2023. Demand on the municipal network rose by 1.8%, mostly in "
        "the northern districts, and was met by drawing more heavily on the Harrow Gill and Lower Brant sources while "
        "Kestrel Moor was held back for the autumn.",
    ),
    (
        "p",
        "Net operating cost was $ 12.40 per megalitre supplied, against $ 12.95 a year earlier. The saving came from "
        "fewer pumping hours at night and from the electricity tariff agreed in June; chemical costs rose by 6.1% and "
        "partly offset it. Capital spending in the quarter was $ 3.62 million, of which $ 1.15 million went to the "
        "spillway repair at Harrow Gill.",
    ),
    ("h2", "2. Storage and inflows"),
    (
        "p",
        "Rainfall over the catchments was 212 mm, 88% of the long-term average for July to September. Inflows were "
        "weakest in August, when the upland gauges recorded eleven consecutive dry days, and recovered in the second "
        "half of September. Combined storage ended the quarter at 78.6% of capacity, compared with 83.9% at the end "
        "of June.",
    ),
    ("h3", "2.1 Upland reservoirs"),
    (
        "p",
        "The upland reservoirs supply about two thirds of the network by gravity. Their levels at the end of the "
        "quarter, and the main events that affected them, were as follows:",
    ),
    (
        "ul",
        "Kestrel Moor: 87.4% full at 30 September (2023: 91.0%); no restrictions on abstraction.",
        "Harrow Gill: 64.9% full; the spillway repair was completed on 12 August, two weeks ahead of plan.",
        "Lower Brant: a planned drawdown of (1,234.5) Ml allowed the turbine inlet to be inspected.",
    ),
    ("h3", "2.2 Lowland sources"),
    (
        "p",
        "The two river intakes on the Brant operated within their licences throughout the quarter. Abstraction at "
        "Millford weir was paused for 36 hours on 3 September after a diesel spill upstream, which the regulator "
        "traced to a farm storage tank; no contaminated water entered the treatment works.",
    ),
    ("h2", "3. Water quality"),
    (
        "p",
        "Of 4,812 samples taken at treatment works, service reservoirs and customer taps, 4,809 met every standard, "
        "a compliance rate of 99.94%. The three failures were all for coliform bacteria at customer taps, and repeat "
        "samples at the same taps were clear. Turbidity at the Harrow Gill works averaged 0.21 NTU, well below the "
        "limit of 1.0 NTU.",
    ),
    (
        "p",
        "Manganese at the Lower Brant works peaked at 12.5* micrograms per litre during the drawdown, still under half "
        "of the regulatory limit of 50 micrograms per litre. Operators raised the dose of oxidising agent for nine "
        "days and the level returned to its usual range of 3 to 5 micrograms per litre.",
    ),
    ("h2", "4. Maintenance and assets"),
    (
        "p",
        "The maintenance team closed 1,146 work orders in the quarter, 92% of them within the target time. Planned "
        "work accounted for 71% of hours, up from 64% in the second quarter, as the backlog of pump overhauls built "
        "up over the winter was cleared. Emergency call-outs fell to 38, the lowest number since the current "
        "reporting system began in 2019.",
    ),
    (
        "p",
        "Mains renewal continued in the Eastgate and Pollard Hill districts, where 6.8 km of cast-iron pipe laid "
        "before 1930 was replaced with polyethylene. Leakage, estimated from night flows in district meter areas, was "
        "58.3 Ml per day against a target of 55.0 Ml per day for the year; the gap is mostly explained by two large "
        "bursts on the trunk main at Sowerby in July.",
    ),
    ("h3", "4.1 Pumping stations"),
    (
        "p",
        "All 23 pumping stations were available for at least 98% of the quarter. The exception was Corran Road, "
        "where the standby pump was out of service for 17 days awaiting a replacement motor. Energy used for pumping "
        "was 3,904 MWh, (412.6) MWh less than in the third quarter of 2023, because more water was supplied by "
        "gravity.",
    ),
    ("h2", "5. Customers"),
    (
        "p",
        "The contact centre handled 9,318 calls, 14.2% fewer than a year earlier, and answered 87% of them within 60 "
        "seconds. Complaints about discoloured water fell from 214 to 163. The largest single cause of complaints was "
        "low pressure on the Highfield estate, resolved in August by resetting a pressure-reducing valve that had been "
        "left at its winter setting.",
    ),
    ("h2", "6. Capital programme"),
    (
        "p",
        "Four schemes were under way at the end of the quarter, with a combined budget of $ 27.4 million. Spending to "
        "date and the expected completion dates are listed below; none of the schemes is forecast to exceed its "
        "budget by more than 5%.",
    ),
    (
        "ol",
        "Harrow Gill spillway repair: $ 4.10 million spent of $ 4.35 million; complete.",
        "Eastgate mains renewal, phase 2: $ 6.72 million of $ 9.80 million; due March 2025.",
        "Lower Brant turbine refurbishment: $ 0.86 million of $ 3.15 million; due June 2025.",
        "Telemetry upgrade at 23 pumping stations: $ 2.04 million of $ 10.10 million; due 2026.",
    ),
    (
        "p",
        "The telemetry upgrade replaces radio links installed in the 1990s with a private cellular network. The first "
        "six stations were switched over in September without loss of data, and the remaining 17 will follow in "
        "three batches during 2025.",
    ),
    ("h3", "6.1 Funding"),
    (
        "p",
        "The programme is funded from the capital reserve and a loan of $ 15.0 million from the regional "
        "infrastructure bank at a fixed rate of 3.85% over 25 years. Interest charged in the quarter was $ 0.14 "
        "million. The reserve stood at $ 8.9 million on 30 September, (2.3) million lower than at the start of the "
        "year.",
    ),
    ("h2", "7. Staff and safety"),
    (
        "p",
        "The authority employed 412 full-time equivalent staff at the end of the quarter, 6 more than in June, after "
        "the recruitment of apprentices for the treatment works. There were two lost-time injuries, both minor, "
        "giving a frequency rate of 0.94 per 100,000 hours worked against 1.21 a year earlier.",
    ),
    (
        "p",
        "All operators at Lower Brant completed the refresher course on handling chlorine gas in July, and an "
        "emergency exercise with the county fire service was held at Kestrel Moor on 19 September.",
    ),
    ("h2", "8. Outlook"),
    (
        "p",
        "Storage is expected to stay above the drought trigger levels through the winter unless rainfall in October "
        "and November is below 60% of the average. The spillway at Harrow Gill will be inspected again after the "
        "first major flood. The next report, for the fourth quarter, will include the results of the annual audit "
        "of leakage figures.",
    ),
    ("p", "* Provisional figure from the laboratory at Lower Brant, subject to confirmation in the annual audit."),
]


def article_2col(path: Path) -> Rendered:
    """A title over two frames per page, running head and page number, two pages."""
    w, h = A4
    gap, col_w, top = 18, (w - 108 - 18) / 2, h - 56
    run = running("Northwind Water Authority - Quarterly Operations Review, Q3 2024", "Page {page} of 2")
    first = PageTemplate(
        "first",
        [
            _frame("title", 54, top - 84, w - 108, 84),
            _frame("c1", 54, 50, col_w, top - 96 - 50),
            _frame("c2", 54 + col_w + gap, 50, col_w, top - 96 - 50),
        ],
        onPage=run,
    )
    later = PageTemplate(
        "later", [_frame("c1", 54, 50, col_w, top - 50), _frame("c2", 54 + col_w + gap, 50, col_w, top - 50)], onPage=run
    )
    s = Story()
    s.add("h1", "Reservoir Operations in the Third Quarter of 2024")
    s.flowables.append(
        s.para(
            "p",
            "Operations Office, Northwind Water Authority. Report OR-2024-03, issued 14 October 2024.",
            style=ParagraphStyle("fx-by", parent=BODY, alignment=TA_CENTER, fontName="Times-Italic"),
        )
    )
    s.flowables += [NextPageTemplate("later"), FrameBreak()]
    for tag, *texts in ARTICLE_2COL:
        s.add(tag, *texts)
    return render(path, s, [first, later])


BAND_1 = [
    "Spring has brought the first visible results of the harbour regeneration plan that residents approved in the ward "
    "ballot last October. Scaffolding has come down from the old fish market, the cobbles on Quay Street have been "
    "relaid, and the first two of six new moorings for visiting boats opened on 2 April.",
    "The plan was costed at $ 4.8 million over three years. By the end of March the council had spent $ 1.93 million, "
    "slightly less than the $ 2.05 million budgeted for the first year, because the tender for the market roof came "
    "in lower than expected. The saving will be carried forward to the sea wall works described below.",
    "Not everything has gone to plan. Parking on Quay Street is down from 64 spaces to 41 while the works continue, and "
    "several traders told the ward forum in March that takings were down by as much as 15% on a normal spring. The "
    "council has agreed to waive market stall fees until the end of June.",
    "Residents' views are still wanted on the design of the new seating area at the end of the pier. Three options are "
    "on display in the library until 31 May, and comments can also be left at the ward office on Chapel Lane, which "
    "is open from 10:00 to 16:00 on weekdays.",
]
BAND_2 = [  # one list of blocks per column
    [
        ("h3", "Council tax"),
        (
            "p",
            "Band D council tax in the ward rises by 4.9% to $ 2,118.40 a year, the most allowed without a local "
            "referendum. Of each dollar collected, 71 cents goes to the county, 18 cents to the police and 11 cents to "
            "the town council.",
        ),
        (
            "p",
            "Bills will be posted in the first week of March; households that pay by direct debit can spread the "
            "amount over twelve months instead of ten.",
        ),
    ],
    [
        ("h3", "Where the money goes"),
        ("p", "The town council's own budget is $ 612,300. The largest items are:"),
        (
            "ol",
            "Parks and open spaces: $ 198,500 (32.4%).",
            "Harbour and moorings: $ 141,000, up 12.5%* on last year.",
            "Grants to local groups: $ 36,750.",
        ),
    ],
    [
        ("h3", "Savings"),
        (
            "p",
            "Street lighting costs fall by (18,400) after the switch to LED lanterns, and the council will stop printing "
            "this bulletin for households that ask for the online edition. The sea wall survey, delayed by the winter "
            "storms, now starts in June and is expected to take eight weeks.",
        ),
        ("p", "* Includes the one-off cost of the mooring survey."),
    ],
]


def article_3col(path: Path) -> Rendered:
    """A full-width title, three balanced columns, a full-width heading, three more columns; one page."""
    small = {
        "p": ParagraphStyle("fx-small", parent=BODY, fontSize=9.5, leading=12.5),
        "ol": ParagraphStyle("fx-small-ol", parent=STYLES["ol"], fontSize=9.5, leading=12.5),
    }

    def paras(s: Story, entries) -> list[_P]:
        return [
            s.para(tag, text, f"{i}." if tag == "ol" else None, small.get(tag))
            for tag, *texts in entries
            for i, text in enumerate(texts, 1)
        ]

    def balanced(s: Story, entries) -> BalancedColumns:
        """Three columns that reportlab balances, splitting paragraphs between them."""
        flow = paras(s, entries)
        cols = BalancedColumns(flow, nCols=3, innerPadding=14, spaceAfter=6)
        cols.truth_ids = [f.truth_id for f in flow]
        return cols

    def columns(s: Story, per_column) -> RLTable:
        """Three columns with chosen content each (an invisible layout grid, no rules: looks like plain columns)."""
        cells = [paras(s, entries) for entries in per_column]
        grid = RLTable(
            [cells],
            colWidths=[(A4[0] - 108) / 3] * 3,
            hAlign="LEFT",
            style=[
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 14),
            ],
        )
        grid.truth_ids = [p.truth_id for cell in cells for p in cell]
        return grid

    s = Story()
    s.add("h1", "Harbour Ward Community Bulletin, Spring 2024")
    s.flowables.append(balanced(s, [("p", *BAND_1)]))
    s.add("h2", "Council budget for 2024-25")
    s.flowables.append(columns(s, BAND_2))
    out = render(path, s, _single(A4, "", "Harbour Ward Community Bulletin - Issue 37 - page {page}"))
    if len(out.marks) != 1:
        raise RuntimeError(f"{path.name}: expected one page, got {len(out.marks)}")
    return out


RULED = TableData(
    caption="Table 2: Revenue and margin by region and site, six months to 30 June ($ thousand)",
    head_rows=2,
    rows=[
        ["Region", "Site", "Revenue", "", "Change", "Margin 2024"],
        ["", "", "2023", "2024", "", ""],
        ["North", "Aberdeen harbour terminal and container yard", "1,234.5", "1,301.2", "5.4%", "11.2%"],
        ["", "Inverness", "642.0", "688.9", "7.3%", "9.8%"],
        ["South", "Plymouth", "412.0", "398.8", "-3.2%", "-2.1%"],
        ["East", "Norwich", "310.4", "327.6", "5.5%", "12.5%*"],
        ["Group", "Intercompany eliminations", "(87.3)", "(92.0)", "n/a", "n/a"],
        ["Total", "", "2,511.6", "2,624.5", "4.5%", "9.6%"],
    ],
    spans={(0, 0): (2, 1), (0, 1): (2, 1), (0, 2): (1, 2), (0, 4): (2, 1), (0, 5): (2, 1), (2, 0): (2, 1), (7, 0): (1, 2)},
    wrap={(2, 1)},
)


def table_ruled(path: Path) -> Rendered:
    """A ruled table: two header rows with a column-spanning cell, a row-spanning cell, a cell wrapping to 2 lines."""
    s = Story()
    s.add("h2", "3. Regional performance")
    s.add(
        "p",
        "Revenue grew in every region except the South, where the loss of the Plymouth ferry contract reduced "
        "volumes. The table below sets out revenue and operating margin by region and site for the six months "
        "to 30 June 2024, with comparative figures for the same period of 2023.",
    )
    style = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("FONTNAME", (0, 0), (-1, 1), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (2, 0), (-1, 1), "CENTER"),
        ("ALIGN", (2, 2), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.Color(0.9, 0.9, 0.9)),
        ("FONTNAME", (0, 7), (-1, 7), "Helvetica-Bold"),
    ]
    table = s.table(RULED, [62, 120, 62, 62, 54, 70], style)
    s.flowables.append(Spacer(1, 6))
    s.add("p", "* Restated to include the Norwich cold store, acquired in March 2024.")
    s.add(
        "p",
        "Operating margin for the group improved by 0.7 percentage points, mainly because of higher utilisation "
        "at Inverness, where a second shift was added in February.",
    )
    out = render(path, s, _single(letter, "Harbourline Logistics plc - Interim Report 2024", "12"), pagesize=letter)
    cell = table._cellvalues[2][1]
    cell = cell[0] if isinstance(cell, (list, tuple)) else cell
    if len(cell.blPara.lines) != 2:
        raise RuntimeError(f"{path.name}: the wrapping cell took {len(cell.blPara.lines)} lines, not 2")
    return out


UNRULED = TableData(
    caption="Table B1: Fleet size, use and cost by vehicle class, 2023",
    rows=[
        ["Vehicle class", "Units", "Avg. age (years)", "Km per unit", "Cost per km", "Change"],
        ["Articulated tractors", "148", "4.2", "118,340", "$ 1.12", "-3.2%"],
        ["Rigid trucks, 18 t", "96", "5.7", "64,905", "$ 0.94", "1.4%"],
        ["Rigid trucks, 7.5 t", "61", "3.9", "41,220", "$ 0.71", "-0.8%"],
        ["Vans", "233", "2.8", "29,874", "$ 0.38", "4.1%"],
        ["Trailers, curtain-side", "310", "7.4", "n/a", "$ 0.19", "-0.6%"],
        ["Trailers, refrigerated", "84", "6.1", "n/a", "$ 0.27", "12.5%*"],
        ["Total / average", "932", "5.2", "n/a", "$ 0.58", "-1.1%"],
    ],
)


def table_unruled(path: Path) -> Rendered:
    """A table without any rules: columns by whitespace alignment only, bold header row."""
    s = Story()
    s.add("h2", "Appendix B: Fleet statistics")
    s.add(
        "p",
        "The fleet at 31 December 2023, by vehicle class. Figures are averages over the year unless stated "
        "otherwise; costs include fuel, tyres and maintenance but not depreciation.",
    )
    style = [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 6),
    ]
    s.table(UNRULED, [130, 50, 90, 75, 70, 55], style)
    s.flowables.append(Spacer(1, 6))
    s.add("p", "* Includes the cost of re-gassing 30 refrigeration units to the new low-warming refrigerant.")
    s.add(
        "p",
        "Vans remain the cheapest class to run per kilometre driven, but their average age will pass three "
        "years in 2024, when the first of the leases signed in 2021 come up for renewal.",
    )
    return render(path, s, _single(letter, "Harbourline Logistics plc - Annual Report 2023", "47"), pagesize=letter)


def _payments(n: int = 58) -> TableData:
    rng = random.Random(20240930)
    suppliers = [
        "Brightwater Civils Ltd",
        "Eastmoor Fleet Services",
        "Kessler Office Supplies",
        "Northgate IT Solutions",
        "Pennine Road Surfacing",
        "Riverside Care Partnership",
        "Sowerby Waste Management",
        "Tallis Legal LLP",
        "Unity Energy Supply",
        "Westfield Construction",
    ]
    departments = ["Highways", "Adult Social Care", "Environment", "Corporate Services", "Housing", "Education"]
    rows = [["Date", "Supplier", "Department", "Reference", "Amount ($)"]]
    day = date(2024, 4, 1)
    for i in range(n):
        day += timedelta(days=rng.randint(1, 3))
        cents = rng.randint(2_500_000, 48_000_000)
        rows.append(
            [day.isoformat(), rng.choice(suppliers), rng.choice(departments), f"PO-24-{1000 + 37 * i:05d}", f"{cents / 100:,.2f}"]
        )
    span = f"{date.fromisoformat(rows[1][0]):%B} to {day:%B %Y}"
    return TableData(rows=rows, caption=f"Table 1: Payments over $ 25,000, {span}")


def table_2pages(path: Path) -> Rendered:
    """A long ruled table split by reportlab over two pages, header row repeated (repeatRows=1)."""
    data = _payments()
    total = sum(float(r[4].replace(",", "")) for r in data.rows[1:])
    s = Story()
    s.add("h2", "Payments to suppliers over $ 25,000")
    s.add(
        "p",
        "The council publishes every payment to a supplier of more than $ 25,000, excluding payments to "
        "individuals. Amounts include VAT where it cannot be recovered. Queries about any entry can be sent to "
        "the transparency officer, quoting the reference number.",
    )
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("ALIGN", (4, 0), (4, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
    ]
    s.table(data, [62, 140, 110, 80, 75], style, repeat=1)
    s.flowables.append(Spacer(1, 6))
    s.add("p", f"Total of the {len(data.rows) - 1} payments listed: $ {total:,.2f}.")
    out = render(path, s, _single(letter, "City of Eastmoor Council - Transparency Report", "Page {page}"), pagesize=letter)
    if len(out.marks) != 2 or sum(len(t) for pages in out.tables.values() for t in pages.values()) != 2:
        raise RuntimeError(f"{path.name}: expected the table split over exactly 2 pages")
    return out


def _bar_chart():
    from reportlab.graphics.shapes import Drawing, Line, Rect

    values = [412, 388, 356, 301, 287, 322]  # MWh, Jan..Jun
    d = Drawing(380, 170)
    for k in range(5):
        d.add(Line(40, 20 + 35 * k, 360, 20 + 35 * k, strokeColor=colors.Color(0.8, 0.8, 0.8), strokeWidth=0.5))
    d.add(Line(40, 20, 40, 165, strokeWidth=1))
    d.add(Line(40, 20, 360, 20, strokeWidth=1))
    for i, v in enumerate(values):
        d.add(Rect(55 + 50 * i, 20, 30, v * 0.33, fillColor=colors.Color(0.2, 0.4, 0.7), strokeColor=None))
    return d


def _site_image(width: int = 900, height: int = 420):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (236, 242, 230))
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 60, 300, 250), fill=(120, 170, 220))
    draw.ellipse((620, 200, 860, 380), fill=(120, 170, 220))
    draw.line([(300, 160), (450, 190), (520, 300), (630, 290)], fill=(60, 60, 60), width=9)
    draw.line([(450, 190), (600, 80), (820, 70)], fill=(60, 60, 60), width=6)
    for x, y in [(450, 190), (520, 300), (600, 80)]:
        draw.ellipse((x - 16, y - 16, x + 16, y + 16), fill=(200, 60, 50))
    draw.rectangle((790, 40, 860, 100), fill=(150, 150, 150))
    return img


def figure(path: Path) -> Rendered:
    """A paragraph, a vector bar chart and its caption, a paragraph, a raster figure and its caption, a paragraph."""
    from reportlab.platypus import Image as RLImage

    s = Story()
    s.add("h2", "7. Energy use")
    s.add(
        "p",
        "Electricity is the largest controllable cost at the pumping stations. Consumption at Kestrel Moor fell "
        "in each of the first five months of 2024 as the new variable-speed drives were commissioned, and rose "
        "again in June when the station ran at full output during the dry spell.",
    )
    chart = _Box(_bar_chart())
    chart.hAlign = "CENTER"
    s.figure(chart, "Figure 1: Monthly electricity use at Kestrel Moor pumping station, January to June 2024 (MWh).")
    s.add(
        "p",
        "Over the half year the station used 2,066 MWh, 11.8% less than in the first half of 2023, saving about "
        "$ 174,000 at current prices. Part of the saving, (38.5) MWh, came from moving the reservoir top-up to "
        "the night tariff.",
    )
    buf = io.BytesIO()
    _site_image().save(buf, "PNG")
    buf.seek(0)
    s.figure(
        RLImage(buf, width=360, height=168),
        "Figure 2: Layout of the trunk mains between Kestrel Moor and the Harrow Gill treatment works.",
    )
    s.add(
        "p",
        "The three booster stations shown in Figure 2 will receive the same drives in 2025, at an estimated cost "
        "of $ 1.2 million, with a payback period of just under four years.",
    )
    return render(path, s, _single(A4, "Northwind Water Authority - Energy Review 2024", "Page {page}"))


FIXTURES = {
    "article-2col": article_2col,
    "article-3col": article_3col,
    "table-ruled": table_ruled,
    "table-unruled": table_unruled,
    "table-2pages": table_2pages,
    "figure": figure,
}
# formula and sidebar pages: tests/helpers/fixture_pages.py
SCANNED = {"article-2col": "scan-article", "table-ruled": "scan-table"}


# ---- scans -------------------------------------------------------------------------------------------------------


def render_page(pdf: Path, dpi: int, page: int = 0):
    """One page of a PDF as a grayscale PIL image at `dpi` (pypdfium2)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return doc[page].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()


def scan_variants(pdf: Path, out_dir: Path, prefix: str) -> list[Path]:
    """Image-only PDFs of page 1 at each SCAN_DPIS, and 200 dpi PNGs turned 90/180, skewed 3 degrees, noisy."""
    import numpy as np
    from PIL import Image

    paths = []
    for dpi in SCAN_DPIS:
        path = out_dir / f"{prefix}-{dpi}dpi.pdf"
        render_page(pdf, dpi).save(path, "PDF", resolution=dpi)
        paths.append(path)
    image = render_page(pdf, 200)
    noise = np.random.default_rng(12).normal(0.0, 12.0, (image.height, image.width))
    noisy = Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8))
    for suffix, img in [
        ("rot90", image.rotate(90, expand=True)),
        ("rot180", image.rotate(180)),
        ("skew3", image.rotate(3, expand=True, fillcolor="white", resample=Image.BICUBIC)),
        ("noise", noisy),
    ]:
        path = out_dir / f"{prefix}-{suffix}.png"
        img.save(path, dpi=(200, 200))
        paths.append(path)
    return paths


def build_fixtures(out_dir: Path, scans: bool = True) -> list[Path]:
    """Write every fixture document and its NAME.truth.html into `out_dir`; returns the document paths."""
    from tests.helpers.fixture_pages import MORE_FIXTURES, SCANNED_200  # it imports this module: imported late

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = []
    for name, build in {**FIXTURES, **MORE_FIXTURES}.items():
        pdf = out_dir / f"{name}.pdf"
        rendered = build(pdf)
        (out_dir / f"{name}.truth.html").write_text(rendered.truth(pdf.name), encoding="utf-8")
        docs.append(pdf)
        variants = scan_variants(pdf, out_dir, SCANNED[name]) if scans and name in SCANNED else []
        if scans and name in SCANNED_200:
            variants = [out_dir / f"{SCANNED_200[name]}-200dpi.pdf"]
            render_page(pdf, 200).save(variants[0], "PDF", resolution=200)
        for path in variants:
            truth = rendered.truth(path.name, only=[1])
            path.with_name(path.name.rsplit(".", 1)[0] + ".truth.html").write_text(truth, encoding="utf-8")
            docs.append(path)
    return docs


if __name__ == "__main__":
    import sys

    for p in build_fixtures(Path(sys.argv[1] if len(sys.argv) > 1 else "parse-fixtures")):
        print(p)
