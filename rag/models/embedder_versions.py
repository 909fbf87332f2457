"""Embedder versions: which weights embed the chunks and the questions, switched with a re-embed, rolled back.

An embedder version is the packaged embedding model of the manifest (built in, id = its name) or that model tuned
on a corpus (`rag finetune embedder`), registered under `<versions dir>/embedders/`:

    embedders/<id>/embedder.json      id, base, base_sha256, sha256 (of model/ as a folder: the vectors' identity),
                                      files (the sha256 of every other file), data_card, eval_report, created_at,
                                      notes, meta (how it was trained)
    embedders/<id>/model/             the sentence-transformers folder (torch and int8 backends)
    embedders/<id>/onnx/              model.onnx and export.json: its ONNX export (the onnx backend)
    embedders/<id>/data_card.json     how its training pairs were made
    embedders/<id>/eval_report.json   recall@1/@10 of held-out pairs, before and after training
    embedders/current.json            {"version": id | null, "history": [...]}, replaced atomically

Kept apart from the answer model's versions (`rag.models.versions`) because a switch means something else: an
answer model is swapped between two questions, while vectors made by another embedder cannot be searched, so an
embedder switch first re-embeds every chunk into a new index version (`Services.use_embedder`). The pointer and
its history are the same code (`read_pointer`, `write_pointer`). Until a version is chosen, `RAG_EMBEDDER__VERSION`
decides, and when that is empty the packaged model of `RAG_EMBEDDER__MODEL`.
"""

import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rag.core.errors import BadInput, HashMismatch, ModelError, NotFound
from rag.core.files import fsync_dir, locked
from rag.core.hashing import sha256_file, sha256_tree
from rag.core.settings import Settings
from rag.models.registry import ModelRegistry
from rag.models.versions import HISTORY_KEPT, ID_PATTERN, read_pointer, write_pointer

log = logging.getLogger(__name__)

RECORD_FILE, MODEL_DIR, ONNX_DIR = "embedder.json", "model", "onnx"
DATA_CARD_FILE, EVAL_REPORT_FILE = "data_card.json", "eval_report.json"


@dataclass(frozen=True)
class EmbedderVersion:
    """One set of embedding weights: a packaged model of the manifest, or a registered tuned copy of one."""

    id: str
    base: str
    base_sha256: str
    sha256: str  # what the index manifest records: the model folder's hash (the base's own for a built-in version)
    folder: Path | None = None  # None: the packaged model (the registry finds it)
    files: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    created_at: str | None = None
    notes: str = ""
    source: str = "registered"  # builtin | registered
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple:
        return (self.id, self.base, self.sha256)

    @property
    def model_dir(self) -> Path | None:
        return self.folder / MODEL_DIR if self.folder else None

    @property
    def onnx_dir(self) -> Path | None:
        return self.folder / ONNX_DIR if self.folder else None

    def as_dict(self) -> dict:
        folder = self.folder
        return {
            "id": self.id,
            "base": self.base,
            "base_sha256": self.base_sha256,
            "sha256": self.sha256,
            "folder": str(folder) if folder else None,
            "data_card": str(folder / DATA_CARD_FILE) if folder and DATA_CARD_FILE in self.files else None,
            "eval_report": str(folder / EVAL_REPORT_FILE) if folder and EVAL_REPORT_FILE in self.files else None,
            "created_at": self.created_at,
            "notes": self.notes,
            "source": self.source,
            "meta": self.meta,
        }


class EmbedderVersions:
    """The built-in and registered embedder versions, the `current` pointer and its history."""

    def __init__(self, settings: Settings, registry: ModelRegistry | None = None):
        self.settings = settings
        self.registry = registry or ModelRegistry(settings)
        self.root = Path(settings.versions_path) / "embedders"
        self.pointer = self.root / "current.json"
        self._state: tuple[tuple, dict] | None = None  # (the pointer file's stat, its content)
        self._read: dict[str, EmbedderVersion] = {}  # registered folders never change once renamed into place

    # ---- reading -------------------------------------------------------------------------------
    def builtin(self) -> list[EmbedderVersion]:
        """One version per embedding model of the manifest: the packaged weights."""
        return [
            EmbedderVersion(id=name, base=name, base_sha256=entry["sha256"], sha256=entry["sha256"], source="builtin")
            for name, entry in self.registry.manifest.items()
            if entry.get("kind") == "embedder"
        ]

    def registered(self) -> list[EmbedderVersion]:
        """Every registered version, oldest first."""
        found = [self._load(p.parent) for p in self.root.glob(f"*/{RECORD_FILE}")] if self.root.is_dir() else []
        return sorted(found, key=lambda v: (v.created_at or "", v.id))

    def list(self) -> list[EmbedderVersion]:
        return self.builtin() + self.registered()

    def get(self, version_id: str) -> EmbedderVersion:
        """A built-in or registered version by id; NotFound otherwise."""
        for v in self.builtin():
            if v.id == version_id:
                return v
        if ID_PATTERN.fullmatch(version_id or "") and (self.root / version_id / RECORD_FILE).is_file():
            return self._load(self.root / version_id)
        raise NotFound(f"no embedder version {version_id!r} (see `rag models list`)")

    def _load(self, folder: Path) -> EmbedderVersion:
        if folder.name in self._read:
            return self._read[folder.name]
        try:
            data = json.loads((folder / RECORD_FILE).read_text())
            version = EmbedderVersion(
                id=data["id"],
                base=data["base"],
                base_sha256=data["base_sha256"],
                sha256=data["sha256"],
                folder=folder,
                files=dict(data.get("files") or {}),
                created_at=data.get("created_at"),
                notes=data.get("notes", ""),
                meta=data.get("meta") or {},
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"embedder version record {folder / RECORD_FILE} is unreadable ({exc!r})") from exc
        self._read[folder.name] = version
        return version

    def state(self) -> dict:
        """The pointer: {"version": id or None (the settings decide), "history": [older ids, last is newest]}.
        Read again only when the file changed (the service asks at every use of the knowledge base)."""
        try:
            st = self.pointer.stat()
            stamp: tuple = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = ()
        if self._state is None or self._state[0] != stamp:
            self._state = (stamp, read_pointer(self.pointer))
        return {"version": self._state[1]["version"], "history": list(self._state[1]["history"])}

    def current(self) -> EmbedderVersion:
        """The version to embed with now: the pointer's, else `RAG_EMBEDDER__VERSION`, else the packaged model of
        `RAG_EMBEDDER__MODEL`."""
        return self.get(self.state()["version"] or self.settings.embedder.version or self.settings.embedder.model)

    # ---- checking ------------------------------------------------------------------------------
    def verify(self, version: EmbedderVersion) -> EmbedderVersion:
        """Refuse a version whose base is not the manifest's pinned embedder any more, or one of whose files
        differs from its record (every file is hashed; a file added to or missing from the folder is refused)."""
        entry = self.registry.entry(version.base)
        if entry.get("kind") != "embedder":
            raise BadInput(f"{version.base!r} is a {entry.get('kind')} model, not an embedding model")
        if version.base_sha256 != entry["sha256"]:
            raise HashMismatch(
                f"embedder version {version.id!r} was tuned from {version.base} with sha256 {version.base_sha256}, "
                f"the manifest now pins {entry['sha256']}: refusing it"
            )
        if version.folder is None:
            return version
        found = {p.relative_to(version.folder).as_posix() for p in version.folder.rglob("*") if p.is_file()} - {RECORD_FILE}
        if found != set(version.files):
            missing, extra = sorted(set(version.files) - found), sorted(found - set(version.files))
            raise HashMismatch(f"embedder version {version.id!r}: files missing {missing[:3]}, unrecorded {extra[:3]}")
        for rel, digest in sorted(version.files.items()):
            if sha256_file(version.folder / rel) != digest:
                raise HashMismatch(f"embedder version {version.id!r}: {rel} differs from its recorded sha256: refusing it")
        model_dir = version.model_dir
        if model_dir is None or sha256_tree(model_dir) != version.sha256:
            raise HashMismatch(f"embedder version {version.id!r}: its model folder does not hash to {version.sha256}")
        return version

    # ---- writing -------------------------------------------------------------------------------
    def check_new_id(self, version_id: str) -> None:
        """BadInput unless `version_id` is well formed and names no embedder version yet."""
        if not ID_PATTERN.fullmatch(version_id or ""):
            raise BadInput(f"version id {version_id!r}: use letters, digits, '.', '_' and '-' (at most 64)")
        if version_id in {v.id for v in self.builtin()} or (self.root / version_id).exists():
            raise BadInput(f"embedder version {version_id!r} exists already; choose another name")

    def register(
        self,
        version_id: str,
        base: str,
        model_dir: Path,
        onnx_dir: Path,
        data_card: dict,
        eval_report: dict,
        notes: str = "",
        meta: dict | None = None,
    ) -> EmbedderVersion:
        """Record a tuned embedder: its sentence-transformers folder, its ONNX export (made from that very folder:
        its export.json names the folder's sha256), the data card and the eval report, every file's sha256.

        The folder appears complete or not at all (built beside it, then renamed); an id is never reused."""
        self.check_new_id(version_id)
        entry = self.registry.entry(base)
        if entry.get("kind") != "embedder":
            raise BadInput(f"{base!r} is a {entry.get('kind')} model, not an embedding model")
        sha256 = sha256_tree(Path(model_dir))
        try:
            exported = json.loads((Path(onnx_dir) / "export.json").read_text())
        except (OSError, ValueError) as exc:
            raise NotFound(f"no ONNX export record in {onnx_dir} ({exc})") from exc
        if exported.get("source_sha256") != sha256:
            raise HashMismatch(f"the ONNX export in {onnx_dir} was not made from {model_dir} (sha256 {sha256})")
        with self._locked():
            self.check_new_id(version_id)
            tmp = self.root / f".{version_id}.partial-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                shutil.copytree(model_dir, tmp / MODEL_DIR)
                (tmp / ONNX_DIR).mkdir()
                for name in ("model.onnx", "export.json"):
                    shutil.copyfile(Path(onnx_dir) / name, tmp / ONNX_DIR / name)
                (tmp / DATA_CARD_FILE).write_text(json.dumps(data_card, indent=1, ensure_ascii=False))
                (tmp / EVAL_REPORT_FILE).write_text(json.dumps(eval_report, indent=1, ensure_ascii=False))
                files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
                record = {
                    "id": version_id,
                    "base": base,
                    "base_sha256": entry["sha256"],
                    "sha256": sha256,
                    "files": files,
                    "data_card": DATA_CARD_FILE,
                    "eval_report": EVAL_REPORT_FILE,
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "notes": notes,
                    "meta": meta or {},
                }
                (tmp / RECORD_FILE).write_text(json.dumps(record, indent=1, ensure_ascii=False))
                for f in tmp.rglob("*"):
                    if f.is_file():
                        with open(f, "rb") as handle:
                            os.fsync(handle.fileno())
                fsync_dir(tmp)
                os.replace(tmp, self.root / version_id)
                fsync_dir(self.root)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        log.info("registered embedder version %s (tuned from %s, sha256 %s)", version_id, base, sha256)
        return self.get(version_id)

    def use(self, version_id: str) -> EmbedderVersion:
        """Point at `version_id` (verified first); the version it replaces goes onto the history. Only the pointer:
        `Services.use_embedder` re-embeds the index with it first."""
        version = self.verify(self.get(version_id))
        with self._locked():
            state = self.state()
            if state["version"] != version.id:
                write_pointer(self.pointer, version.id, [*state["history"], state["version"]][-HISTORY_KEPT:])
        log.info("embedder version %s is current", version.id)
        return version

    def previous(self) -> EmbedderVersion:
        """The version a rollback returns to (verified), without switching."""
        history = self.state()["history"]
        if not history:
            raise BadInput("no earlier embedder version to roll back to (see `rag models list`)")
        chosen = history[-1] or self.settings.embedder.version or self.settings.embedder.model
        return self.verify(self.get(chosen))

    def rollback(self) -> EmbedderVersion:
        """Point back at the version that was current before the last `use` (None on the history: the settings)."""
        with self._locked():
            target = self.previous()
            *history, previous = self.state()["history"]
            write_pointer(self.pointer, previous, history)
        log.info("rolled back to embedder version %s", target.id)
        return target

    @contextmanager
    def _locked(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with locked(self.root / ".lock"):
            yield
