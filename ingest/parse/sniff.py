"""Decide what a file is from its bytes, not its name (a mislabeled file is read for what it is).

Binary formats by their signature; a ZIP by the parts it holds (an OOXML package by its main part, an
OpenDocument package by its `mimetype` entry); an OLE2 compound file by its stream names (legacy Word, Excel,
PowerPoint; an encrypted OOXML package is an OLE2 file with an `EncryptionInfo` stream). Text formats by their
opening (`{\\rtf`, an HTML tag, e-mail headers); the extension only chooses among plain texts that no content
tells apart (`.md` Markdown, `.csv`/`.tsv` tables, anything else plain text). What cannot be read gets a
one-line reason.
"""

import re
import zipfile
from pathlib import Path

from rag.core.errors import EmptyFile, EncryptedFile, NotFound, UnsupportedType

SIGNATURES = [
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
]
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"

# OOXML packages: the main part that names the format
OOXML_PARTS = [("word/document.xml", "docx"), ("ppt/presentation.xml", "pptx"), ("xl/workbook.xml", "xlsx")]
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
# OLE2 streams (names as UTF-16LE directory entries) and the legacy format they make
OLE_STREAMS = [
    ("EncryptionInfo", "encrypted"),
    ("WordDocument", "doc"),
    ("PowerPoint Document", "ppt"),
    ("Workbook", "xls"),
    ("Book", "xls"),
    ("__substg1.0_", "msg"),
]
OLE_SCAN_BYTES = 64 << 20  # directory entries of an OLE2 file are looked for in its first 64 MB

BINARY_EXTENSIONS = {
    ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".docx", ".docm", ".pptx", ".pptm", ".xlsx", ".xlsm", ".odt",
    ".odp", ".ods", ".doc", ".ppt", ".xls", ".zip", ".msg", ".gif", ".bmp", ".webp",
}  # fmt: skip
TEXT_EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}
MAIL_HEADERS = re.compile(
    rb"^(received|return-path|from|to|subject|date|message-id|mime-version|delivered-to|x-[\w-]+|reply-to|cc):[ \t]",
    re.IGNORECASE,
)
HTML_OPENING = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)

SUPPORTED = "PDF, PNG, JPEG, TIFF, DOCX, PPTX, XLSX, ODT, ODP, ODS, DOC, PPT, XLS, RTF, HTML, EML, Markdown, text, CSV, TSV"


def sniff(path: Path) -> str:
    """The file's kind ('pdf', 'image', 'docx', 'pptx', 'xlsx', 'odt', 'odp', 'ods', 'doc', 'ppt', 'xls', 'rtf',
    'html', 'eml', 'markdown', 'text', 'csv', 'tsv'), or a clear error for a missing, empty, encrypted or
    unsupported file."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    if not path.is_file():
        raise UnsupportedType(f"not a regular file: {path}")
    if path.stat().st_size == 0:
        raise EmptyFile(f"empty file (0 bytes): {path.name}")
    with open(path, "rb") as f:
        head = f.read(4096)
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if head.startswith(ZIP):
        return _zip_kind(path)
    if head.startswith(OLE2):
        return _ole_kind(path)
    if b"%PDF-" in head[:1024]:  # some PDFs carry junk before the header
        return "pdf"
    text = _text_kind(path, head)
    if text:
        return text
    raise UnsupportedType(f"unsupported file type: {path.name} (supported: {SUPPORTED})")


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "mimetype" in names:
                mime = z.read("mimetype")[:100].decode("ascii", "replace").strip()
                if mime in ODF_TYPES:
                    manifest = z.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
                    if b"encryption-data" in manifest:
                        raise EncryptedFile(f"password-protected OpenDocument file: {path.name} (remove the password and retry)")
                    return ODF_TYPES[mime]
    except zipfile.BadZipFile as exc:
        raise UnsupportedType(f"unsupported file type: {path.name} is a damaged ZIP archive ({exc})") from None
    if "[Content_Types].xml" in names:
        for part, kind in OOXML_PARTS:
            if part in names:
                return kind
    raise UnsupportedType(
        f"unsupported file type: {path.name} is a ZIP archive but no office document (unpack it and ingest its files)"
    )


def _ole_kind(path: Path) -> str:
    with open(path, "rb") as f:
        data = f.read(OLE_SCAN_BYTES)
    for stream, kind in OLE_STREAMS:
        if stream.encode("utf-16-le") in data:
            if kind == "encrypted":
                raise EncryptedFile(f"password-protected office file: {path.name} (remove the password and retry)")
            if kind == "msg":
                raise UnsupportedType(
                    f"unsupported file type: {path.name} is an Outlook .msg message (save it as .eml and ingest that)"
                )
            return kind
    raise UnsupportedType(
        f"unsupported file type: {path.name} is an OLE2 file of no office format read here (supported: {SUPPORTED})"
    )


def _text_kind(path: Path, head: bytes) -> str | None:
    """A text format, or None for binary content (NUL bytes or control characters in its opening)."""
    if head.startswith(b"{\\rtf"):
        return "rtf"
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its BOM
        body = body[2:].decode("utf-16", "replace").encode()
    elif b"\x00" in body:
        return None
    if sum(b < 9 or 13 < b < 32 for b in body) > len(body) // 100:
        return None
    if HTML_OPENING.match(body) or (body.lstrip()[:1] == b"<" and b"<html" in body.lower()):
        return "html"
    if MAIL_HEADERS.match(body) and re.search(rb"^(from|subject|date):", body, re.IGNORECASE | re.MULTILINE):
        return "eml"
    suffix = path.suffix.lower()
    if suffix in BINARY_EXTENSIONS:  # a name that promises a binary format over plain text: most likely a mistake
        raise UnsupportedType(
            f"unsupported file type: {path.name} holds plain text, not what its {suffix} name says (name it .txt to ingest it)"
        )
    return TEXT_EXTENSIONS.get(suffix, "text")
