"""Small files replaced atomically: written beside the target, fsynced, renamed over it, the folder fsynced.

A reader sees the old content or the new one, never a mix; a crash at any point leaves one of the two.
Used for the `current` pointers (index versions, model versions).
"""

import os
from pathlib import Path


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
