"""Plain text and CSV/TSV files, and the one decoding of text bytes every text format uses.

Text: paragraphs are separated by blank lines (the lines of one paragraph joined), lines opening with "- ", "* "
or "1." are list items, and the flow is cut into sections by size (`ingest.formats.sections`). CSV/TSV: one
table, the first row its header, the delimiter of CSV sniffed among `,;|` (TSV: tab); rows are cut into sections
of `ROWS_PER_SECTION`, each a continuation of the table before it (the chunker repeats the header), and boxes are
in cells as for sheets (`0,0,4,5` is columns 1-4, rows 1-5).
"""

import codecs
import csv
import io
import re
from pathlib import Path

from ingest.formats.sections import block, flow_pages
from ingest.page import Block, Page, ParsedDocument
from ingest.parse.tables import table_text
from rag.core.errors import EmptyFile

ROWS_PER_SECTION = 100
MAX_FIELD = 1 << 20
LIST_ITEM = re.compile(r"^\s*(?:[-*•]\s+|(\d{1,3})[.)]\s+)")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


def decode(data: bytes, html: bool = False) -> str:
    """Text from bytes: a BOM's encoding, else (HTML) a declared `<meta charset>`, else UTF-8, else Windows-1252."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, "replace")
    if html and (m := META_CHARSET.search(data[:4096])):
        try:
            return data.decode(m.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def text_blocks(text: str) -> list[Block]:
    """Paragraphs (blank-line separated, their lines joined) and list items of plain text."""
    blocks: list[Block] = []
    for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in para.split("\n") if line.strip()]
        if lines and all(LIST_ITEM.match(line) for line in lines):
            for line in lines:
                m = LIST_ITEM.match(line)
                assert m is not None
                blocks.append(block("list_item", line[m.end() :].strip(), ordered=bool(m.group(1))))
        elif lines:
            blocks.append(block("paragraph", " ".join(line.strip() for line in lines)))
    return blocks


def read_text(path: Path, name: str) -> ParsedDocument:
    return ParsedDocument(name, flow_pages(text_blocks(decode(path.read_bytes()))), "text")


def table_pages(rows: list[list[str]]) -> list[Page]:
    """A table of text rows (the first its header) in sections of `ROWS_PER_SECTION` rows."""
    width = max(len(r) for r in rows)
    cells = [[{"text": " ".join(v.split()), "colspan": 1, "rowspan": 1} for v in r + [""] * (width - len(r))] for r in rows]
    pages: list[Page] = []
    for start in range(0, len(cells), ROWS_PER_SECTION):
        part = cells[start : start + ROWS_PER_SECTION]
        first = start == 0
        end = start + len(part)
        table = block(
            "table",
            table_text(part),
            rows=part,
            header_rows=1 if first else 0,
            continued=not first,
            bbox=(0.0, float(start), float(width), float(end)),
        )
        pages.append(Page(len(pages) + 1, float(width), float(len(cells)), [table], label=f"rows {start + 1}-{end}"))
    return pages


def read_delimited(path: Path, name: str, kind: str) -> ParsedDocument:
    text = decode(path.read_bytes())
    if kind == "tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;|\t").delimiter
        except csv.Error:
            delimiter = ","
    csv.field_size_limit(MAX_FIELD)
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(v.strip() for v in r)]
    if not rows:
        raise EmptyFile(f"no rows in {name}")
    return ParsedDocument(name, table_pages(rows), kind)
