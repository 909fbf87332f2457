"""Decide what a file is from its bytes, not its name (a mislabeled file is read for what it is)."""

from pathlib import Path

from rag.core.errors import EmptyFile, NotFound, UnsupportedType

SIGNATURES = [
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
]

SUPPORTED = "PDF, PNG, JPEG, TIFF"


def sniff(path: Path) -> str:
    """Return 'pdf' or 'image', or raise a clear error for a missing, empty or unsupported file."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    if not path.is_file():
        raise UnsupportedType(f"not a regular file: {path}")
    if path.stat().st_size == 0:
        raise EmptyFile(f"empty file (0 bytes): {path.name}")
    with open(path, "rb") as f:
        head = f.read(1024)
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head:  # some PDFs carry junk before the header
        return "pdf"
    raise UnsupportedType(f"unsupported file type: {path.name} (supported: {SUPPORTED})")
