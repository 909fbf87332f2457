"""Word documents (DOCX, DOCM; DOC, ODT and RTF after LibreOffice turns them into DOCX) read with python-docx.

Body paragraphs and tables in document order. Headings come from the paragraph's style: "Title" is the `h1`,
"Heading N" (or a style with outline level N-1) is `h(N+1)`, capped at `h6`, as PDFs' section levels are; a
paragraph with numbering (or a "List ..." style) is a list item, ordered unless its numbering format is a bullet;
"Caption" paragraphs caption the table next to them. Tables keep merged cells (`gridSpan` as colspan, `vMerge`
as rowspan) and their repeated header rows (`tblHeader`; else the first row). Core properties (title, author,
subject) are the document's metadata.
"""

import re
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from ingest.formats.images import alt_text
from ingest.formats.package import load_package, open_package
from ingest.formats.sections import block, flow_pages
from ingest.page import Block, ParsedDocument
from ingest.parse.tables import table_text

HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
DOC_PR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"


def _pictures(p, part, images: dict[str, bytes]) -> list[Block]:
    """A figure for each picture drawn in paragraph `p`: its alt text, its bytes kept for OCR (`ingest.formats.images`)."""
    out = []
    for drawing in p.iter(qn("w:drawing")):
        blip = next(drawing.iter(BLIP), None)
        rid = blip.get(EMBED) if blip is not None else None
        doc_pr = next(drawing.iter(DOC_PR), None)
        alt = alt_text(doc_pr.get("descr")) if doc_pr is not None else ""
        marker = ""
        if rid and rid in part.related_parts:
            marker = str(len(images) + 1)
            images[marker] = part.related_parts[rid].blob
        out.append(block("figure", alt, marker=f"image:{marker}" if marker else ""))
    return out


class _Styles:
    """Paragraph styles by id, read once: each style's name and outline level (python-docx's `Paragraph.style`
    scans every style for the default on each call, which made a 400-paragraph document take seconds)."""

    def __init__(self, document) -> None:
        self.names: dict[str, str] = {}
        self.outline: dict[str, int] = {}
        self.default = ""
        for st in document.styles.element.findall(qn("w:style")):
            if st.get(qn("w:type")) not in (None, "paragraph"):
                continue
            sid = st.get(qn("w:styleId")) or ""
            name = st.find(qn("w:name"))
            self.names[sid] = name.get(qn("w:val")) if name is not None else sid
            level = st.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
            if level is not None:
                self.outline[sid] = int(level.get(qn("w:val"), "9"))
            if st.get(qn("w:default")) in ("1", "true"):
                self.default = sid

    def of(self, p) -> tuple[str, str, int]:
        """(style name, what it makes: 'title' | 'heading' | 'list' | 'caption' | '', heading level)."""
        ref = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        sid = ref.get(qn("w:val")) if ref is not None else self.default
        name = self.names.get(sid, sid or "")
        lower = name.lower()
        if lower == "title":
            return name, "title", 1
        m = HEADING_STYLE.match(name)
        if m:
            return name, "heading", min(int(m.group(1)) + 1, 6)
        own = p.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        level = int(own.get(qn("w:val"), "9")) if own is not None else self.outline.get(sid, 9)
        if level < 9:
            return name, "heading", min(level + 2, 6)
        if lower.startswith("caption"):
            return name, "caption", 0
        if lower.startswith("list"):
            return name, "list", 0
        return name, "", 0


class _Numbering:
    """Whether a numbered paragraph's list is ordered (its level's `numFmt` is not a bullet)."""

    def __init__(self, document) -> None:
        self.formats: dict[tuple[str, str], str] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for a in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in a.findall(qn("w:lvl")):
                fmt = lvl.find(qn("w:numFmt"))
                levels[lvl.get(qn("w:ilvl"))] = fmt.get(qn("w:val")) if fmt is not None else "decimal"
            abstract[a.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            for ilvl, fmt in abstract.get(ref.get(qn("w:val")) if ref is not None else "", {}).items():
                self.formats[(num.get(qn("w:numId")), ilvl)] = fmt

    def list_of(self, p, style_name: str, style_kind: str) -> tuple[bool, bool]:
        """(is a list item, ordered) for the paragraph element `p`."""
        num_pr = p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        if num_pr is None:
            return style_kind == "list", "number" in style_name.lower()
        num_id, ilvl = num_pr.find(qn("w:numId")), num_pr.find(qn("w:ilvl"))
        key = (num_id.get(qn("w:val")) if num_id is not None else "", ilvl.get(qn("w:val")) if ilvl is not None else "0")
        if key[0] == "0":  # numId 0: numbering switched off
            return False, False
        return True, self.formats.get(key, "bullet") not in ("bullet", "none")


def _cell_text(tc) -> str:
    return " ".join("".join(t.text or "" for t in p.iter(qn("w:t"))).strip() for p in tc.iter(qn("w:p"))).strip()


def table_rows(tbl) -> tuple[list[list[dict]], int]:
    """Rows of cells {text, colspan, rowspan} with merges resolved, and the number of header rows."""
    rows: list[list[dict]] = []
    open_cells: dict[int, dict] = {}  # grid column -> the cell a vertical merge continues
    header_rows, in_header = 0, True
    for tr in tbl.findall(qn("w:tr")):
        row: list[dict] = []
        col = 0
        before = tr.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}")
        if before is not None:
            col += int(before.get(qn("w:val"), "0"))
        for tc in tr.findall(qn("w:tc")):
            pr = tc.find(qn("w:tcPr"))
            span_el = pr.find(qn("w:gridSpan")) if pr is not None else None
            span = int(span_el.get(qn("w:val"), "1")) if span_el is not None else 1
            merge = pr.find(qn("w:vMerge")) if pr is not None else None
            if merge is not None and merge.get(qn("w:val"), "continue") != "restart" and col in open_cells:
                open_cells[col]["rowspan"] += 1
            else:
                cell = {"text": _cell_text(tc), "colspan": span, "rowspan": 1}
                row.append(cell)
                if merge is not None:
                    open_cells[col] = cell
                else:
                    open_cells.pop(col, None)
            col += span
        header = tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}")
        if in_header and header is not None and header.get(qn("w:val"), "true") not in ("0", "false"):
            header_rows += 1
        else:
            in_header = False
        if row:
            rows.append(row)
    return rows, header_rows or 1


def read_docx(path: Path, name: str) -> ParsedDocument:
    package = open_package(path, name)
    document = load_package(package, name, docx.Document, "Word document")
    numbering, styles = _Numbering(document), _Styles(document)
    images: dict[str, bytes] = {}
    blocks: list[Block] = []
    pending_caption = ""
    for el in document.element.body.iterchildren():
        if el.tag == qn("w:p"):
            text = Paragraph(el, document).text.strip()
            pictures = _pictures(el, document.part, images)
            if not text:
                blocks += pictures
                continue
            style, kind, level = styles.of(el)
            is_item, ordered = numbering.list_of(el, style, kind)
            if kind in ("title", "heading"):
                blocks.append(block(kind, text, level=level))
            elif kind == "caption":
                last = blocks[-1] if blocks else None
                if last is not None and last.kind in ("table", "figure") and not last.caption:
                    last.caption = text
                else:
                    pending_caption = text
                continue
            elif is_item:
                blocks.append(block("list_item", text, ordered=ordered))
            else:
                blocks.append(block("paragraph", text))
            blocks += pictures
        elif el.tag == qn("w:tbl"):
            rows, header_rows = table_rows(el)
            if rows:
                blocks.append(block("table", table_text(rows), rows=rows, header_rows=header_rows, caption=pending_caption))
                pending_caption = ""
                continue
        if pending_caption:  # a caption with no table after it stays a caption
            blocks.insert(len(blocks) - 1, block("caption", pending_caption))
            pending_caption = ""
    if pending_caption:
        blocks.append(block("caption", pending_caption))
    props = document.core_properties
    metadata = {k: v for k, v in (("title", props.title), ("author", props.author), ("subject", props.subject)) if v}
    return ParsedDocument(name, flow_pages(blocks), "docx", metadata=metadata, notes=package.notes, images=images)
