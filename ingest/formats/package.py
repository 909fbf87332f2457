"""An OOXML package (DOCX, PPTX, XLSX and their macro-enabled forms) checked and cleaned before a library reads it.

- **Decompression bombs**: every part's declared size is checked before anything is inflated (a part over
  `MAX_PART_BYTES`, a whole package over `MAX_TOTAL_BYTES`, or an XML part over 1 MB that inflates more than
  `MAX_RATIO` times is refused), and each part is read with a cap, so a ZIP lying about its sizes is caught too.
- **Macros**: `vbaProject.bin` and the other VBA parts are dropped and the macro-enabled content types renamed to
  the plain ones, so python-docx and python-pptx read a `.docm`/`.pptm` as they read a `.docx`/`.pptx`; no code
  in the file is ever run (nothing here runs code), and the report says the macros were not run.
"""

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rag.core.errors import CorruptFile, TooLarge

T = TypeVar("T")

MAX_PART_BYTES = 256 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_RATIO = 200
MACRO_PART = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml|vbaProjectSignature[^/]*\.bin)$", re.IGNORECASE)
MACRO_RELATION = re.compile(rb"<Relationship\b[^>]*Target=\"[^\"]*(vbaProject\.bin|vbaData\.xml)\"[^>]*/>", re.IGNORECASE)
MACRO_TYPES = {
    b"application/vnd.ms-word.document.macroEnabled.main+xml": b"application/vnd.openxmlformats-officedocument"
    b".wordprocessingml.document.main+xml",
    b"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": b"application/vnd.openxmlformats-officedocument"
    b".presentationml.presentation.main+xml",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml": b"application/vnd.openxmlformats-officedocument"
    b".spreadsheetml.sheet.main+xml",
    b"application/vnd.ms-word.template.macroEnabledTemplate.main+xml": b"application/vnd.openxmlformats-officedocument"
    b".wordprocessingml.document.main+xml",
}


@dataclass
class Package:
    """The cleaned package: its bytes for the reading library, and what the report should say."""

    data: io.BytesIO
    parts: dict[str, int]  # part name -> uncompressed size
    notes: list[str] = field(default_factory=list)


def check_sizes(z: zipfile.ZipFile, name: str) -> dict[str, int]:
    """Part name -> declared uncompressed size; raises TooLarge for a decompression bomb."""
    sizes, total = {}, 0
    for info in z.infolist():
        total += info.file_size
        bomb = info.file_size > MAX_PART_BYTES or (
            info.file_size > (1 << 20)
            and info.filename.endswith(".xml")
            and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        )
        if bomb or total > MAX_TOTAL_BYTES:
            raise TooLarge(
                f"{name}: refused as a decompression bomb ({info.filename} inflates from {info.compress_size:,} to "
                f"{info.file_size:,} bytes)"
            )
        sizes[info.filename] = info.file_size
    return sizes


def read_part(z: zipfile.ZipFile, part: str, name: str, limit: int = MAX_PART_BYTES) -> bytes:
    """A part's bytes, never more than `limit` (a ZIP that lies about a size is caught while inflating)."""
    with z.open(part) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{name}: refused as a decompression bomb ({part} inflates past {limit:,} bytes)")
    return data


def open_package(path: Path, name: str) -> Package:
    """The package at `path` checked for bombs and with its macros removed (see the module's doc)."""
    try:
        with zipfile.ZipFile(path) as z:
            sizes = check_sizes(z, name)
            out = io.BytesIO()
            notes: list[str] = []
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
                for info in z.infolist():
                    if MACRO_PART.search(info.filename):
                        if "macros" not in " ".join(notes):
                            notes.append("macro-enabled file: its content was read, its macros were not run (removed)")
                        continue
                    data = read_part(z, info.filename, name)
                    if info.filename.endswith(".rels"):
                        data = MACRO_RELATION.sub(b"", data)
                    if info.filename == "[Content_Types].xml":
                        for macro, plain in MACRO_TYPES.items():
                            data = data.replace(macro, plain)
                    w.writestr(info.filename, data)
    except zipfile.BadZipFile as exc:
        raise CorruptFile(f"{name}: a damaged office file ({exc})") from None
    out.seek(0)
    return Package(out, sizes, notes)


def load_package(package: Package, name: str, loader: Callable[[io.BytesIO], T], kind: str) -> T:
    """`loader` (python-docx, python-pptx, openpyxl) run on the checked package; whatever it raises on a broken
    package becomes one `CorruptFile` that says which `kind` of file could not be read."""
    try:
        return loader(package.data)
    except Exception as exc:  # noqa: BLE001 - the office libraries raise many kinds on a broken package
        raise CorruptFile(f"{name}: not a readable {kind} ({type(exc).__name__}: {exc})") from None
