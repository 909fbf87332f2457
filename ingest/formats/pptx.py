"""PowerPoint decks (PPTX, PPTM; PPT and ODP after LibreOffice turns them into PPTX) read with python-pptx.

One section per slide (`data-page` is the slide number, `data-label` "Slide N"), in slide units of points with
each block's box from its shape's position, so a citation points at the shape. The slide's title placeholder is
its heading (`h1` on the first slide, `h2` after); shapes are read top to bottom, left to right (groups
opened); paragraphs of body placeholders and bulleted paragraphs are list items (numbered when auto-numbered);
tables keep merged cells (merge origins' spans) and their header row (the "first row" option); a picture or
chart is a figure with its alt text or chart title; the speaker notes are an `<aside>` after the slide's content.
"""

from pathlib import Path

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.util import Emu

from ingest.formats.images import alt_text
from ingest.formats.package import load_package, open_package
from ingest.formats.sections import block, header_like, unit_page
from ingest.page import Block, ParsedDocument
from ingest.parse.tables import table_text

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}
BODIES = {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT}


def _pt(v) -> float:
    return round(Emu(v or 0).pt, 1)


def _box(shape) -> tuple[float, float, float, float]:
    x, y = _pt(shape.left), _pt(shape.top)
    return (x, y, round(x + _pt(shape.width), 1), round(y + _pt(shape.height), 1))


def _shapes(shapes):
    """Shapes in reading order (top to bottom, then left to right), groups opened."""
    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _placeholder(shape):
    return shape.placeholder_format.type if shape.is_placeholder else None


def _text_blocks(shape, bbox) -> list[Block]:
    body = _placeholder(shape) in BODIES
    out = []
    for para in shape.text_frame.paragraphs:
        text = "".join(r.text for r in para.runs).strip() or para.text.strip()
        if not text:
            continue
        ppr = para._p.find(f"{A}pPr")
        numbered = ppr is not None and ppr.find(f"{A}buAutoNum") is not None
        bulleted = ppr is not None and ppr.find(f"{A}buChar") is not None
        plain = ppr is not None and ppr.find(f"{A}buNone") is not None
        if (body and not plain) or numbered or bulleted:
            out.append(block("list_item", text, bbox=bbox, ordered=numbered))
        else:
            out.append(block("paragraph", text, bbox=bbox))
    return out


def _table(shape, bbox) -> Block:
    table = shape.table
    rows = []
    for r in table.rows:
        row = []
        for cell in r.cells:
            if cell.is_spanned:
                continue
            span = (cell.span_width, cell.span_height) if cell.is_merge_origin else (1, 1)
            row.append({"text": " ".join(cell.text.split()), "colspan": span[0], "rowspan": span[1]})
        rows.append(row)
    # the "first row" option, or (LibreOffice drops the option when it converts PPT and ODP) a first row of labels
    header = table.first_row or (len(rows) > 1 and header_like(rows[0]))
    return block("table", table_text(rows), bbox=bbox, rows=rows, header_rows=1 if header else 0)


def _slide_blocks(slide, number: int, images: dict[str, bytes]) -> list[Block]:
    blocks: list[Block] = []
    for shape in _shapes(slide.shapes):
        bbox = _box(shape)
        if _placeholder(shape) in TITLES and shape.has_text_frame and shape.text_frame.text.strip():
            title = " ".join(shape.text_frame.text.split())
            blocks.append(
                block("title", title, bbox=bbox, level=1) if number == 1 else block("heading", title, bbox=bbox, level=2)
            )
        elif getattr(shape, "has_table", False) and shape.has_table:
            blocks.append(_table(shape, bbox))
        elif getattr(shape, "has_chart", False) and shape.has_chart:
            chart = shape.chart
            title = chart.chart_title.text_frame.text if chart.has_title and chart.chart_title.has_text_frame else ""
            series = ", ".join(s.name for s in chart.plots[0].series) if len(chart.plots) else ""
            blocks.append(block("figure", "\n".join(t for t in (title, series) if t), bbox=bbox, caption=title))
        elif shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
            alt = alt_text(shape._element._nvXxPr.cNvPr.get("descr"))
            key = str(len(images) + 1)
            try:
                images[key] = shape.image.blob
            except (AttributeError, KeyError, ValueError):  # a linked picture: no bytes in the file
                key = ""
            blocks.append(block("figure", alt, bbox=bbox, marker=f"image:{key}" if key else ""))
        elif shape.has_text_frame:
            blocks.extend(_text_blocks(shape, bbox))
    return blocks


def _notes(slide, width: float, height: float) -> list[Block]:
    if not slide.has_notes_slide:
        return []
    text = slide.notes_slide.notes_text_frame.text if slide.notes_slide.notes_text_frame is not None else ""
    area = (0.0, 0.0, width, height)
    return [block("paragraph", line.strip(), aside=area) for line in text.splitlines() if line.strip()]


def read_pptx(path: Path, name: str) -> ParsedDocument:
    package = open_package(path, name)
    deck = load_package(package, name, pptx.Presentation, "PowerPoint deck")
    width, height = _pt(deck.slide_width), _pt(deck.slide_height)
    pages = []
    images: dict[str, bytes] = {}
    for number, slide in enumerate(deck.slides, 1):
        blocks = _slide_blocks(slide, number, images) + _notes(slide, width, height)
        pages.append(unit_page(number, f"Slide {number}", blocks, width, height))
    props = deck.core_properties
    metadata = {k: v for k, v in (("title", props.title), ("author", props.author), ("subject", props.subject)) if v}
    return ParsedDocument(name, pages, "pptx", metadata=metadata, notes=package.notes, images=images)
