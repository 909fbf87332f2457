"""Small files that cost a parser much: blank pages by the thousand, huge pages, decompression bombs."""

import struct
import zlib
from pathlib import Path


def blank_pdf(path: Path, pages: int, size: tuple[float, float] = (612, 792)) -> Path:
    """A PDF of `pages` empty pages (no drawing at all): a few hundred bytes a page."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(*size)
    with open(path, "wb") as f:
        writer.write(f)
    return Path(path)


def drawn_pdf(path: Path, size: tuple[float, float], fill: tuple[float, float, float], text: str = "") -> Path:
    """One page of `size` points covered by a rectangle of colour `fill`, with `text` (short: under the text-layer
    threshold, so the page goes to OCR) drawn large in black when given."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=size)
    c.setFillColorRGB(*fill)
    c.rect(0, 0, *size, stroke=0, fill=1)
    if text:
        c.setFillColorRGB(0, 0, 0)
        c.setFont("Helvetica", min(size) / 6)
        c.drawString(size[0] / 10, size[1] / 2, text)
    c.save()
    return Path(path)


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares `width` x `height` pixels and holds almost no data: what a decompression bomb shows a
    reader before it decodes anything."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    data = zlib.compress(b"\x00" * 1024, 9)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return Path(path)
