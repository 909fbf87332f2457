"""Where a citation's quote is written on a born-digital PDF page: the boxes of its lines, from pdfium's text search.

A quote is a sentence of the chunk as the layout made it (hyphenation at line ends repaired, spaces normalised),
so it is looked for whole first, then from its first words to its last words. Scans and page images have no text
layer: their quotes are not located (the chunk's box still is).
"""

from pathlib import Path

from ingest.pages.render import PDFIUM

EDGE_WORDS = 6  # words at each end of a quote looked for when the whole quote is not found
MAX_SPAN = 3.0  # a span from first to last words may be at most this many times the quote's length


def quote_boxes(pdf_path: Path, page: int, quote: str) -> list[list[float]]:
    """The line boxes `[x0, y0, x1, y1]` (PDF points, origin top-left) of `quote` on page `page`; [] when not found."""
    import pypdfium2 as pdfium

    words = quote.split()
    if not words:
        return []
    with PDFIUM:
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            if not 1 <= page <= len(pdf):
                return []
            p = pdf[page - 1]
            height = p.get_size()[1]
            text = p.get_textpage()
            span = _find(text, words)
            if span is None:
                return []
            start, count = span
            boxes = [text.get_rect(i) for i in range(text.count_rects(start, count))]
        finally:
            pdf.close()
    return [[round(x0, 1), round(height - top, 1), round(x1, 1), round(height - bottom, 1)] for x0, bottom, x1, top in boxes]


def _first(text, phrase: str) -> tuple[int, int] | None:
    found = text.search(phrase, match_case=False).get_next()
    return (found[0], found[1]) if found else None


def _find(text, words: list[str]) -> tuple[int, int] | None:
    """(first character, characters) of the quote in the page's text."""
    whole = _first(text, " ".join(words))
    if whole or len(words) <= EDGE_WORDS:
        return whole
    head = _first(text, " ".join(words[:EDGE_WORDS]))
    if head is None:
        return None
    tail_phrase = " ".join(words[-EDGE_WORDS:])
    searcher = text.search(tail_phrase, match_case=False, index=head[0])
    tail = searcher.get_next()
    if not tail:
        return head
    end = tail[0] + tail[1]
    if end - head[0] > MAX_SPAN * len(" ".join(words)):
        return head
    return head[0], end - head[0]
