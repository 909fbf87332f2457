"""sha256 of model files and folders, with a cache keyed on path, size and mtime.

Hashing a 1 GB GGUF takes seconds; the cache makes every later start instant while still
catching a file that was replaced (its size or mtime changes).
"""

import hashlib
import json
import os
from pathlib import Path


def sha256_file(path: Path, bufsize: int = 1 << 20) -> str:
    """Return the hex sha256 of one file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(bufsize):
            h.update(block)
    return h.hexdigest()


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _stamp(path: Path) -> list:
    return [[str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns] for p in _files(path)]


def sha256_tree(path: Path) -> str:
    """sha256 of a file, or of a folder as the hash of its sorted `relpath<TAB>sha256` lines."""
    if path.is_file():
        return sha256_file(path)
    lines = "".join(f"{p.relative_to(path).as_posix()}\t{sha256_file(p)}\n" for p in _files(path))
    return hashlib.sha256(lines.encode()).hexdigest()


class HashCache:
    """A JSON file remembering the sha256 of paths whose size and mtime have not changed."""

    def __init__(self, file: Path):
        self.file = Path(file)

    def _load(self) -> dict:
        try:
            return json.loads(self.file.read_text())
        except (OSError, ValueError):
            return {}

    def sha256(self, path: Path) -> str:
        """The sha256 of `path` (file or folder), computed only when its stamp changed."""
        path = Path(path).resolve()
        key, stamp = str(path), _stamp(path)
        entries = self._load()
        hit = entries.get(key)
        if hit and hit.get("stamp") == stamp:
            return hit["sha256"]
        digest = sha256_tree(path)
        entries[key] = {"stamp": stamp, "sha256": digest}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(entries, indent=1))
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only models dir still works, it just re-hashes next time
        return digest


def text_sha256(texts: list[str]) -> str:
    """sha256 of texts with case and whitespace normalised: a document's text whatever bytes carried it (a PDF
    saved again, a DOCX re-saved by another program)."""
    h = hashlib.sha256()
    for text in texts:
        h.update(" ".join(text.lower().split()).encode())
        h.update(b"\x00")
    return h.hexdigest()
