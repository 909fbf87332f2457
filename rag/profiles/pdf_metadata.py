"""A PDF's own metadata (document info) and top-level outline, read with pypdf; empty when unreadable."""

import logging
from pathlib import Path

log = logging.getLogger(__name__)
KEYS = {"/Title": "title", "/Author": "author", "/Subject": "subject", "/Keywords": "keywords", "/CreationDate": "created"}


def pdf_metadata(path: Path, outline_items: int = 60) -> dict[str, str]:
    """{title, author, subject, keywords, created, outline} as strings (outline: top-level entries, one a line)."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        info: dict = dict(reader.metadata or {})
        out = {name: str(info.get(key) or "").strip() for key, name in KEYS.items()}
        outline = [str(item.title).strip() for item in reader.outline if hasattr(item, "title")][:outline_items]
        out["outline"] = "\n".join(t for t in outline if t)
        return {k: v for k, v in out.items() if v}
    except Exception as exc:  # noqa: BLE001 - metadata is a hint; a PDF without readable metadata is still a document
        log.debug("no PDF metadata from %s: %s", path, exc)
        return {}
