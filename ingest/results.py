"""What ingesting a file and a batch of files reports: one `FileResult` per file, a `Report` for the batch."""

from dataclasses import asdict, dataclass, field


@dataclass
class FileResult:
    path: str
    status: str  # ok | skipped | duplicate (its content is stored under another name) | failed | deleted (re-index)
    reason: str = ""
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # pages that could not be read (the rest were)
    doc_id: str = ""


@dataclass
class Report:
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict:
        counts = {s: sum(f.status == s for f in self.files) for s in ("ok", "skipped", "failed")}
        for extra in ("duplicate", "deleted"):
            if any(f.status == extra for f in self.files):
                counts[extra] = sum(f.status == extra for f in self.files)
        return {
            "files": [asdict(f) for f in self.files],
            "counts": counts,
            "pages": sum(f.pages for f in self.files),
            "chunks": sum(f.chunks for f in self.files),
            "seconds": round(self.seconds, 2),
        }
