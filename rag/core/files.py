"""Small files replaced atomically, exclusive file locks, and JSONL records read with clear errors.

`write_atomic`: written beside the target, fsynced, renamed over it, the folder fsynced; a reader sees the old
content or the new one, never a mix; a crash at any point leaves one of the two. Used for the `current` pointers
(index versions, model versions).
"""

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.core.errors import BadInput


def layout_html_path(data_dir: Path | str, doc_id: str) -> Path:
    """Where a document's layout HTML is kept: `<data dir>/html/<document id>.html` (read by the API and by profile
    rebuilds; removed with the document)."""
    return Path(data_dir) / "html" / f"{doc_id}.html"


def original_path(data_dir: Path | str, doc_id: str) -> Path:
    """Where the copy of a PDF or page image a document was read from is kept (`<data dir>/originals/<document
    id>`; its kind is told by content): page images are rendered from it."""
    return Path(data_dir) / "originals" / doc_id


def page_images_dir(data_dir: Path | str, doc_id: str) -> Path:
    """The rendered page images of a document kept as a cache: `<data dir>/page_images/<document id>/`."""
    return Path(data_dir) / "page_images" / doc_id


def remove_document_files(data_dir: Path | str, doc_id: str) -> None:
    """A removed document's files: its layout HTML, its kept original and its cached page images."""
    layout_html_path(data_dir, doc_id).unlink(missing_ok=True)
    original_path(data_dir, doc_id).unlink(missing_ok=True)
    shutil.rmtree(page_images_dir(data_dir, doc_id), ignore_errors=True)


@contextmanager
def locked(path: Path, shared: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block: one writer at a time across processes.
    `shared`: a lock many may hold at once, which keeps out whoever wants it exclusively (`locked_if_free`)."""
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def locked_if_free(path: Path) -> Iterator[bool]:
    """The exclusive lock on `path` if nobody holds any lock on it now (True), else False at once; the lock of a
    process that died is free."""
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_records(path: Path, needs: str = "a non-empty 'question'") -> list[dict]:
    """The JSON objects of a JSONL file (blank lines skipped); BadInput naming the line for one that is not JSON or
    has no non-empty `question`."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"{path}:{n}: not JSON ({exc.msg})") from exc
            if not isinstance(rec, dict) or not str(rec.get("question") or "").strip():
                raise BadInput(f"{path}:{n}: a record needs {needs}")
            out.append(rec)
    return out


def write_atomic(path: Path, text: str) -> None:
    """Replace `path`'s content with `text` atomically (write beside, fsync, rename, fsync the folder)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
