"""Documents generated for tests, examples and benchmarks, so the expected text is known exactly."""

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

LOREM = (
    "Operators review the maintenance log every morning and record any deviation from the plan. "
    "Each entry names the unit, the shift and the person who signed it off. "
)


def simple_pdf(
    path: Path, pages: list[tuple[str, list[str]]], title: str | None = None, running_header: str | None = None
) -> Path:
    """One heading and some paragraphs per page (reportlab flowables, real text layer).

    With `running_header`, every page also gets that line at the top and its number at the bottom.
    """
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story = []
    if title:
        story += [Paragraph(title, styles["Title"]), Spacer(1, 12)]
    for i, (heading, paragraphs) in enumerate(pages):
        story.append(Paragraph(heading, styles["Heading2"]))
        story += [Paragraph(p, styles["BodyText"]) for p in paragraphs]
        if i < len(pages) - 1:
            story.append(PageBreak())

    def decorate(canvas, doc):
        if running_header:
            canvas.setFont("Helvetica", 8)
            canvas.drawString(72, letter[1] - 40, running_header)
            canvas.drawCentredString(letter[0] / 2, 30, str(doc.page))

    SimpleDocTemplate(str(path), pagesize=letter, title=title or "").build(story, onFirstPage=decorate, onLaterPages=decorate)
    return Path(path)


def two_column_pdf(path: Path, title: str, left: list[str], right: list[str]) -> Path:
    """A full-width title over two columns of paragraphs (left column is read first)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, PageTemplate, Paragraph

    styles = getSampleStyleSheet()
    w, h = letter
    doc = BaseDocTemplate(str(path), pagesize=letter)
    top = Frame(54, h - 130, w - 108, 70, id="top")
    col1 = Frame(54, 72, (w - 108) / 2 - 12, h - 210, id="c1")
    col2 = Frame(54 + (w - 108) / 2 + 12, 72, (w - 108) / 2 - 12, h - 210, id="c2")
    doc.addPageTemplates([PageTemplate(id="two", frames=[top, col1, col2])])
    story = [Paragraph(title, styles["Title"]), FrameBreak()]
    story += [Paragraph(p, styles["BodyText"]) for p in left] + [FrameBreak()]
    story += [Paragraph(p, styles["BodyText"]) for p in right]
    doc.build(story)
    return Path(path)


def table_pdf(path: Path, heading: str, rows: list[list[str]], spans: list[tuple] = ()) -> Path:
    """A ruled table (GRID) under a heading; `spans` are reportlab SPAN commands ((c0,r0),(c1,r1))."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    table = Table(rows)
    style = [("GRID", (0, 0), (-1, -1), 0.8, colors.black)] + [("SPAN", a, b) for a, b in spans]
    table.setStyle(TableStyle(style))
    story = [
        Paragraph(heading, styles["Heading2"]),
        Spacer(1, 8),
        table,
        Spacer(1, 8),
        Paragraph("The table above lists the figures for each site.", styles["BodyText"]),
    ]
    SimpleDocTemplate(str(path), pagesize=letter).build(story)
    return Path(path)


def text_image(lines: list[str], size: tuple[int, int] = (1240, 1754), font_size: int = 34, margin: int = 100) -> Image.Image:
    """A white page with black text lines (an A4 scan at 150 dpi by default)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    y = margin
    for line in lines:
        fs = font_size + 14 if line.isupper() else font_size
        font = ImageFont.load_default(size=fs)
        draw.text((margin, y), line, fill="black", font=font)
        y += int(fs * 1.6)
    return image


def page_image(path: Path, lines: list[str], **kw) -> Path:
    text_image(lines, **kw).save(path)
    return Path(path)


def scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """An image-only PDF (no text layer), one rendered page per list of lines."""
    images = [text_image(lines) for lines in pages]
    images[0].save(path, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return Path(path)


def encrypted_pdf(path: Path, source: Path, password: str = "s3cret") -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(source)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password)
    with open(path, "wb") as f:
        writer.write(f)
    return Path(path)


def corrupt_pdf(path: Path, source: Path) -> Path:
    """A PDF header followed by garbage: claims to be a PDF, is not one."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[:40] + b"\x00garbage" * 200)
    return Path(path)


def long_pdf(path: Path, n_pages: int = 50) -> Path:
    """A realistic multi-page report: numbered sections with several paragraphs per page."""
    pages = []
    for i in range(1, n_pages + 1):
        paras = [
            f"Section {i}.{j}: the plant in region {i} processed {1000 + 37 * i + j} tonnes in quarter {j}. " + LOREM * 3
            for j in range(1, 5)
        ]
        pages.append((f"{i}. Regional operations report {i}", paras))
    return simple_pdf(path, pages, title="Operations Report")


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
