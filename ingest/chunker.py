"""Layout-aware chunks: paragraphs packed under their heading breadcrumb, one page per chunk,
tables whole (or split by rows with the header row repeated). Headers and footers are left out."""

import hashlib

from ingest.page import Block, ParsedDocument
from ingest.parse.html import blocks_html
from ingest.parse.tables import table_text
from rag.answering.steering import addressed_phrase
from rag.core.settings import ChunkSettings
from rag.core.types import Chunk


def chunk_id(doc_id: str, page: int, text: str) -> str:
    """Content hash: the same text on the same page of the same document version gets the same id.

    `doc_id` already hashes (collection, path, file sha256), so two copies of one file stay distinct.
    """
    return hashlib.sha256(f"{doc_id}\x00{page}\x00{text}".encode()).hexdigest()[:32]


def block_text(b: Block) -> str:
    """The text a block contributes to a chunk: list items as "- item", figures as caption then inner text."""
    if b.kind == "list_item":
        return f"- {b.text}"
    if b.kind == "figure":
        return "\n".join(t for t in (b.caption, b.text) if t)
    if b.kind == "table" and b.caption:
        return f"{b.caption}\n{b.text}"
    return b.text


def _union(boxes: list[tuple]) -> list[float]:
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _table_pieces(block: Block, max_words: int) -> list[Block]:
    """Split a long table by rows, repeating the header row in every piece."""
    n = block.header_rows
    if len(block.text.split()) <= max_words or len(block.rows) <= n + 1:
        return [block]
    header = block.rows[:n]
    pieces: list[list[list[dict]]] = []
    current: list[list[dict]] = []
    for row in block.rows[n:]:
        candidate = current + [row]
        if current and len(table_text(header + candidate).split()) > max_words:
            pieces.append(current)
            candidate = [row]
        current = candidate
    pieces.append(current)
    return [
        Block(kind="table", bbox=block.bbox, rows=header + p, text=table_text(header + p), caption=block.caption, header_rows=n)
        for p in pieces
    ]


def _split_long(block: Block, max_words: int) -> list[Block]:
    """Cut a paragraph longer than `max_words` at sentence ends (words, if a sentence is longer)."""
    words = block.text.split()
    if block.kind == "table" or len(words) <= max_words:
        return [block]
    pieces, current = [], []
    for w in words:
        current.append(w)
        if len(current) >= max_words or (len(current) >= max_words * 0.6 and w.endswith((".", "?", "!"))):
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return [
        Block(
            kind=block.kind,
            bbox=block.bbox,
            text=" ".join(p),
            level=block.level,
            size=block.size,
            marker=block.marker,
            aside=block.aside,
        )
        for p in pieces
    ]


def _with_header(block: Block, header: list[list[dict]]) -> Block:
    """A table continued from the previous page gets that table's header rows, unless it repeats them itself."""
    if not block.continued or not header:
        return block
    texts = [[c["text"] for c in row] for row in header]
    if [[c["text"] for c in row] for row in block.rows[: len(header)]] == texts:
        rows = block.rows
    else:
        rows = header + block.rows
    return Block(
        kind="table",
        bbox=block.bbox,
        rows=rows,
        text=table_text(rows),
        caption=block.caption,
        continued=True,
        header_rows=len(header),
    )


def chunk_document(
    doc: ParsedDocument, doc_id: str, max_words: int = 180, min_words: int = 8, merge_below: int = 0, table_words: int = 0
) -> list[Chunk]:
    """Chunks in reading order; each carries its page, bbox, heading breadcrumb, text and HTML. A chunk of fewer
    than `merge_below` words joins a neighbour on its page (see `_merge_fragments`). A table longer than
    `table_words` (0: `max_words`) is split by rows."""
    chunks: list[Chunk] = []
    trail: dict[int, str] = {}
    last_header: list[list[dict]] = []  # header rows of the last table, for its continuation on the next page
    last_title = ""  # the title of the last table (its caption, or the short lines just above it), likewise

    def emit(page: int, blocks: list[Block], heading: str) -> None:
        text = "\n".join(block_text(b) for b in blocks).strip()
        if not text:
            return
        html = "\n".join(blocks_html(blocks))
        chunks.append(
            Chunk(
                id=chunk_id(doc_id, page, text),
                doc_id=doc_id,
                page=page,
                bbox=[round(v, 1) for v in _union([b.bbox for b in blocks])],
                heading=heading,
                text=text,
                html=html,
                ord=len(chunks),
            )
        )

    running = _running_lines(doc)
    for page in doc.pages:
        pending: list[Block] = []
        words = 0
        top = _page_title_blocks(page.blocks, running)

        for block in [piece for b in page.blocks for piece in _split_long(b, max_words)]:
            if block.kind in ("header", "footer"):
                continue
            if block.kind in ("title", "heading"):
                if words >= min_words:
                    emit(page.number, pending, _place(trail, top, [], pending))
                    pending, words = [], 0
                level = block.level or 1
                trail = {k: v for k, v in trail.items() if k < level}
                trail[level] = block.text
                pending.append(block)
                words += len(block.text.split())
                continue
            if block.kind == "table":
                title = block.caption or _table_title(pending)
                if pending and words >= min_words:
                    emit(page.number, pending, _place(trail, top, [], pending))
                    pending, words = [], 0
                block = _with_header(block, last_header)
                if block.header_rows:
                    last_header = block.rows[: block.header_rows]
                if title or not block.continued:
                    last_title = title
                for piece in _table_pieces(block, table_words or max_words):
                    emit(
                        page.number,
                        pending + [piece],
                        _place(trail, top, [last_title] if last_title else [], pending),
                    )
                    pending, words = [], 0
                continue
            n = len(block.text.split())
            if pending and words + n > max_words:
                emit(page.number, pending, _place(trail, top, [], pending))
                pending, words = [], 0
            pending.append(block)
            words += n
        if pending:
            emit(page.number, pending, _place(trail, top, [], pending))
    return _dedup(_drop_common_crumbs(_merge_fragments(chunks, doc_id, merge_below, max_words)))


COMMON_CRUMB = 0.5  # a crumb in the headings of more than this share of a document's chunks says nothing about them
COMMON_CRUMB_MIN_CHUNKS = 20


def chunks_with(doc: ParsedDocument, doc_id: str, cfg: ChunkSettings) -> list[Chunk]:
    """`chunk_document` with the configured chunk settings (what ingestion and re-chunking use); a chunk whose text
    addresses a model ("ignore previous instructions") is flagged (`rag.answering.steering`)."""
    chunks = chunk_document(doc, doc_id, cfg.max_words, cfg.min_words, cfg.merge_below, cfg.table_words)
    return [c.model_copy(update={"addresses_model": True}) if addressed_phrase(c.text) else c for c in chunks]


def _drop_common_crumbs(chunks: list[Chunk]) -> list[Chunk]:
    """Headings without the crumbs that head most of the document ("UNITED STATES SECURITIES AND EXCHANGE COMMISSION
    > FORM 10-K", a cover title taken as the top heading of everything after it) and those with no word ("50 55 55",
    "*": page numbers or marks read as headings). Such crumbs tell no chunk of the document from another, and the
    embedder reads at most 256 tokens of label, heading and text. The document's own name and period are in its
    label (`chunk_context`)."""
    counts: dict[str, int] = {}
    for c in chunks:
        for crumb in set(c.heading.split(CRUMB)):
            counts[crumb] = counts.get(crumb, 0) + 1
    limit = COMMON_CRUMB * len(chunks) if len(chunks) >= COMMON_CRUMB_MIN_CHUNKS else len(chunks)
    out = []
    for c in chunks:
        crumbs = [k for k in c.heading.split(CRUMB) if counts[k] <= limit and _has_word(k)]
        heading = CRUMB.join(crumbs)
        out.append(c if heading == c.heading else c.model_copy(update={"heading": heading}))
    return out


CRUMB = " > "


def _has_word(text: str) -> bool:
    return sum(ch.isalpha() for ch in text) >= 2


def _merge_fragments(chunks: list[Chunk], doc_id: str, below: int, max_words: int) -> list[Chunk]:
    """Chunks of fewer than `below` words ("Total Stores at End of Fiscal Year 134 51", a date line split off a
    statement) joined to the chunk before them on the same page, else to the one after, when the two fit in
    `max_words`. Alone, such a fragment is mostly its document's label once embedded, so it matches any question
    about that document and crowds the pages that answer it out of the top results."""
    if below <= 0:
        return chunks

    def words(c: Chunk) -> int:
        return len(c.text.split())

    def join(a: Chunk, b: Chunk, heading: str) -> Chunk:
        text = f"{a.text}\n{b.text}"
        box = _union([tuple(a.bbox), tuple(b.bbox)]) if a.bbox and b.bbox else a.bbox or b.bbox
        return Chunk(
            id=chunk_id(doc_id, a.page, text),
            doc_id=doc_id,
            page=a.page,
            bbox=box,
            heading=heading,
            text=text,
            html=f"{a.html}\n{b.html}",
            ord=a.ord,
        )

    out: list[Chunk] = []
    carry: Chunk | None = None  # a fragment waiting for the next chunk of its page
    for c in chunks:
        if carry is not None:
            if carry.page == c.page and words(carry) + words(c) <= max_words:
                c = join(carry, c, c.heading)
            else:
                out.append(carry)
            carry = None
        if words(c) < below:
            if out and out[-1].page == c.page and words(out[-1]) + words(c) <= max_words:
                out[-1] = join(out[-1], c, out[-1].heading)
            else:
                carry = c
            continue
        out.append(c)
    if carry is not None:
        out.append(carry)
    return out


def _place(trail: dict[int, str], top: list[Block], extra: list[str], blocks: list[Block]) -> str:
    """The heading breadcrumb, then the page's title lines the breadcrumb and `extra` lack (unless `blocks` hold
    them: the chunk that opens the page), then `extra` (a table's title)."""
    crumbs = [trail[k] for k in sorted(trail)]
    title = [] if any(b is t for b in blocks for t in top) else [t.text.strip() for t in top]
    title = [t for t in title if t not in crumbs and not any(t in e for e in extra)]
    return CRUMB.join(crumbs + ([" / ".join(title)] if title else []) + extra)


PAGE_TITLE_BLOCKS = 3  # at most this many short lines at the top of a page make its title


def _page_title_blocks(blocks: list[Block], running: set[str]) -> list[Block]:
    """The short lines a page opens with ("3M Company and Subsidiaries / Consolidated Balance Sheet / At December
    31"): they say what the whole page is, so every chunk of the page carries them in its place, also after a
    later heading (or a table cell the layout took for one) has replaced them in the breadcrumb. Lines repeated at
    the top of many pages (a running header the layout missed) and lines without a letter ("2022", "—") are passed
    over; the title ends at the first table, list, figure, long line or prose."""
    out: list[Block] = []
    for b in blocks:
        text = b.text.strip()
        if b.kind in ("header", "footer", "caption") or text in running or not any(ch.isalpha() for ch in text):
            continue
        if b.kind not in ("title", "heading", "paragraph") or len(text.split()) > TITLE_WORDS or len(out) == PAGE_TITLE_BLOCKS:
            break
        if b.kind == "paragraph" and _sentence(text):
            break
        out.append(b)
    return out


def _sentence(text: str) -> bool:
    """Prose rather than a title line: it ends like a sentence (a short line ending in a period is a name such as
    "AMAZON.COM, INC."), introduces what follows ("Current assets:"), or goes on from the previous page."""
    return (text.endswith(".") and len(text.split()) > 4) or text.endswith((":", ";", ",")) or text[0].islower()


def _running_lines(doc: ParsedDocument) -> set[str]:
    """Short lines that open many pages of the document ("Table of Contents"): a running header, not a title."""
    counts: dict[str, int] = {}
    for page in doc.pages:
        seen = set()
        for b in page.blocks[: PAGE_TITLE_BLOCKS + 2]:
            text = b.text.strip()
            if b.kind == "paragraph" and text and len(text.split()) <= TITLE_WORDS:
                seen.add(text)
        for text in seen:
            counts[text] = counts.get(text, 0) + 1
    limit = max(3, len(doc.pages) // 10)
    return {text for text, n in counts.items() if n > limit}


TITLE_WORDS = 16  # a line just above a table this short is its title ("Consolidated Statements of Cash Flows")


def _table_title(pending: list[Block]) -> str:
    """The short lines right above a table that title it (statement name, unit line), in order, when it has no
    caption: they go into the place of every piece of the table, so a row split off far below still says what
    table it belongs to."""
    lines: list[str] = []
    for block in reversed(pending):
        if block.kind != "paragraph" or len(block.text.split()) > TITLE_WORDS or len(lines) == 3:  # headings: in the trail
            break
        lines.insert(0, block.text.strip())
    return " / ".join(line for line in lines if line)


def _dedup(chunks: list[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out: list[Chunk] = []
    for c in chunks:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c.model_copy(update={"ord": len(out)}))
    return out
