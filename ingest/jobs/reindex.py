"""Re-indexing: keep the index in step with source folders (new and changed files ingested, deleted ones removed),
published as one new index version at the end.

Blue/green: every changed file is parsed, chunked and embedded first (the slow part) while queries are answered
from the live version and the store is untouched; the writes (new and changed documents, deletions) are then
applied together and one version is published. Changes are written in batches of `reindex_batch` files, so a
huge re-index holds at most that many prepared files in memory.
"""

import logging
import os
import time
from pathlib import Path

from ingest.pipeline import FileResult, Ingestor, Prepared, Report, expand
from rag.core.settings import Source

log = logging.getLogger(__name__)


def _under(path: str, root: Path) -> bool:
    return path == str(root) or path.startswith(str(root) + os.sep)


def reindex(services, sources: list[Source], full: bool = False, progress=None, before_write=None) -> Report:
    """Rescan `sources`; `full` re-parses and re-embeds every file. Unchanged files (same size and mtime as
    stored, else same sha256) are skipped. A source folder that is missing removes nothing (an unmounted share
    must not empty the index). `before_write()` is called once all changes are prepared, before any is written."""
    t0 = time.perf_counter()
    kb = services.kb
    ingestor = Ingestor(services)
    report = Report()
    batch = max(1, services.settings.ingest.reindex_batch)
    with kb.bulk():  # one publication at the end; until then queries read the previous version
        pending: list[Prepared] = []
        deletions: list[tuple[str, dict]] = []
        src_of: dict[str, str] = {}  # path -> its collection
        for src in sources:
            root = Path(src.path).resolve()
            if not root.is_dir():
                report.files.append(FileResult(str(root), "failed", f"source folder missing: {root} (nothing removed)"))
                continue
            known = kb.store.file_index(src.collection)
            files, _ = expand([root])
            seen = set()
            for i, f in enumerate(files, 1):
                real = str(f.resolve())
                seen.add(real)
                stored, stat = known.get(real), f.stat()
                result: FileResult | Prepared
                if (
                    not full
                    and stored
                    and stored["status"] == "ok"
                    and stored["size"] == stat.st_size
                    and stored["mtime"] == stat.st_mtime
                ):
                    result = FileResult(real, "skipped", "unchanged", doc_id=stored["id"])
                else:
                    result = ingestor.prepare_file(f, src.collection, force=full)
                if isinstance(result, Prepared):
                    pending.append(result)
                    if len(pending) >= batch:
                        _write(ingestor, pending, report, before_write)
                        before_write = None
                else:
                    report.files.append(result)
                if progress:
                    progress(i, len(files), result if isinstance(result, FileResult) else result.result)
            gone = [(path, doc) for path, doc in known.items() if _under(path, root) and path not in seen]
            deletions += gone
            src_of.update((path, src.collection) for path, _ in gone)
        _write(ingestor, pending, report, before_write)
        for path, doc in deletions:
            # one name gone: the document stays while another of its names (an alias) is still there
            what, _, n = kb.remove_name(src_of[path], path)
            reason = {
                "alias": "source file removed (an alias; the document stays)",
                "renamed": "source file removed (the document stays under another of its names)",
            }.get(what, "source file removed")
            report.files.append(FileResult(path, "deleted", reason, chunks=n, doc_id=doc["id"]))
    report.seconds = time.perf_counter() - t0
    log.info("reindex: %s", report.as_dict()["counts"])
    return report


def _write(ingestor: Ingestor, pending: list[Prepared], report: Report, before_write) -> None:
    if before_write is not None:
        before_write()
    report.files.extend(ingestor.apply(p) for p in pending)
    pending.clear()
