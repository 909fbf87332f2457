"""Model versions: what the service answers with, switched atomically and rolled back.

A version is a base model of the manifest (name and pinned sha256), optionally a GGUF LoRA adapter on top
(llama.cpp applies it), with the training data card and eval report it came with. Every generator of the
manifest is a built-in version (its base alone, id = the model's name). Registered versions live under
`<models dir>/versions/` (RAG_VERSIONS_DIR elsewhere):

    versions/<id>/version.json      id, base, base_sha256, adapter, adapter_sha256, data_card, eval_report,
                                    created_at, notes, meta (how the adapter was exported)
    versions/<id>/adapter.gguf      the adapter (its sha256 is verified before use and at load)
    versions/<id>/data_card.json    the training data card (copied)
    versions/<id>/eval_report.json  the eval report (copied)
    versions/current.json           {"version": id | null, "history": [...]}, replaced atomically

`use` points `current.json` at a version and pushes the one it replaces onto the history; `rollback` pops it
back. Until a version was ever chosen (or when the pointer says null), the settings decide, as they always
did: RAG_GENERATOR__MODEL with RAG_GENERATOR__LORA_PATH (and RAG_GENERATOR__LORA_SHA256 to pin it). The
server reads the pointer at every question (one small file) and switches when it changed.
"""

import builtins
import json
import logging
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rag.core.errors import BadInput, HashMismatch, ModelError, NotFound
from rag.core.files import fsync_dir, locked, write_atomic
from rag.core.hashing import sha256_file
from rag.core.settings import Settings
from rag.models.registry import ModelRegistry

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
HISTORY_KEPT = 50
ADAPTER_FILE, DATA_CARD_FILE, EVAL_REPORT_FILE, MANIFEST_FILE = (
    "adapter.gguf",
    "data_card.json",
    "eval_report.json",
    "version.json",
)


@dataclass(frozen=True)
class ModelVersion:
    """One servable model: a base of the manifest, optionally an adapter, and where it came from."""

    id: str
    base: str
    base_sha256: str | None
    adapter: Path | None = None
    adapter_sha256: str | None = None
    data_card: Path | None = None
    eval_report: Path | None = None
    created_at: str | None = None
    notes: str = ""
    # builtin (a manifest model alone) | packaged (an adapter shipped in rag/models/adapters/) | registered | settings
    source: str = "registered"
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple:
        """What identifies the weights: a change in any part is another model."""
        return (self.id, self.base, self.base_sha256, str(self.adapter or ""), self.adapter_sha256)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "base": self.base,
            "base_sha256": self.base_sha256,
            "adapter": str(self.adapter) if self.adapter else None,
            "adapter_sha256": self.adapter_sha256,
            "data_card": str(self.data_card) if self.data_card else None,
            "eval_report": str(self.eval_report) if self.eval_report else None,
            "created_at": self.created_at,
            "notes": self.notes,
            "source": self.source,
            "meta": self.meta,
        }


class ModelVersions:
    """The built-in and registered versions, the `current` pointer and its history."""

    def __init__(self, settings: Settings, registry: ModelRegistry | None = None):
        self.settings = settings
        self.registry = registry or ModelRegistry(settings)
        self.root = Path(settings.versions_path)
        self.pointer = self.root / "current.json"

    # ---- reading -------------------------------------------------------------------------------
    def builtin(self) -> list[ModelVersion]:
        """One version per generator of the manifest: its base alone."""
        return [
            ModelVersion(id=name, base=name, base_sha256=entry["sha256"], source="builtin", notes=entry.get("upstream", ""))
            for name, entry in self.registry.manifest.items()
            if entry.get("kind") == "generator"
        ]

    def packaged(self) -> list[ModelVersion]:
        """Adapters shipped inside the package (`rag/models/adapters/<id>/version.json`, same layout as a registered
        version), trained by this project with its own pipeline: see docs/fine-tuning.md."""
        folder = Path(str(resources.files("rag.models").joinpath("adapters")))
        found = sorted(folder.glob(f"*/{MANIFEST_FILE}")) if folder.is_dir() else []
        shipped = [self._read(p, source="packaged") for p in found]
        return [v for v in shipped if v.base in self.registry.manifest]

    def registered(self) -> list[ModelVersion]:
        """Every registered version, oldest first."""
        found = [self._read(p) for p in self.root.glob(f"*/{MANIFEST_FILE}")] if self.root.is_dir() else []
        return sorted(found, key=lambda v: (v.created_at or "", v.id))

    def list(self) -> list[ModelVersion]:
        return self.builtin() + self.packaged() + self.registered()

    def get(self, version_id: str) -> ModelVersion:
        """A built-in or registered version by id; NotFound otherwise."""
        for v in self.builtin() + self.packaged():
            if v.id == version_id:
                return v
        if ID_PATTERN.fullmatch(version_id or "") and (self.root / version_id / MANIFEST_FILE).is_file():
            return self._read(self.root / version_id / MANIFEST_FILE)
        raise NotFound(f"no model version {version_id!r} (see `rag models list`)")

    def _read(self, path: Path, source: str = "registered") -> ModelVersion:
        data = json.loads(path.read_text())
        folder = path.parent

        def local(key: str) -> Path | None:
            return folder / data[key] if data.get(key) else None

        return ModelVersion(
            id=data["id"],
            base=data["base"],
            base_sha256=data["base_sha256"],
            adapter=local("adapter"),
            adapter_sha256=data.get("adapter_sha256"),
            data_card=local("data_card"),
            eval_report=local("eval_report"),
            created_at=data.get("created_at"),
            notes=data.get("notes", ""),
            source=source,
            meta=data.get("meta") or {},
        )

    def state(self) -> dict:
        """The pointer: {"version": id or None (the settings decide), "history": [older ids, last is newest]}."""
        return read_pointer(self.pointer)

    def from_settings(self) -> ModelVersion:
        """The version the settings describe (RAG_GENERATOR__MODEL, __LORA_PATH, __LORA_SHA256)."""
        g = self.settings.generator
        entry = self.registry.manifest.get(g.model) or {}
        if not g.lora_path:  # the id of the built-in version (or the model an endpoint serves)
            return ModelVersion(id=g.model, base=g.model, base_sha256=entry.get("sha256"), source="settings")
        lora = Path(g.lora_path)
        return ModelVersion(
            id=f"{g.model}+{lora.stem}",
            base=g.model,
            base_sha256=entry.get("sha256"),
            adapter=lora,
            adapter_sha256=g.lora_sha256,
            source="settings",
        )

    def default_id(self) -> str | None:
        """The settings' default version (`RAG_GENERATOR__VERSION`), unless the model, adapter, backend or endpoint
        was set explicitly: then those are served, as set."""
        g = self.settings.generator
        if not g.version:
            return None
        if "version" not in g.model_fields_set and g.model_fields_set & {"model", "lora_path", "backend", "endpoint"}:
            return None
        return g.version

    def current(self) -> ModelVersion:
        """The version to serve now: the pointer's, else the settings' default version, else what the settings
        describe."""
        chosen = self.state()["version"] or self.default_id()
        return self.get(chosen) if chosen else self.from_settings()

    # ---- checking ------------------------------------------------------------------------------
    def verify(self, version: ModelVersion) -> ModelVersion:
        """Refuse a version whose base is no longer the one the manifest pins, or whose adapter's sha256 differs."""
        entry = self.registry.entry(version.base)
        if entry.get("kind") != "generator":
            raise BadInput(f"{version.base!r} is a {entry.get('kind')} model, not an answer model")
        if version.base_sha256 and version.base_sha256 != entry["sha256"]:
            raise HashMismatch(
                f"model version {version.id!r} was made on {version.base} with sha256 "
                f"{version.base_sha256}, the manifest now pins {entry['sha256']}: refusing it"
            )
        if version.adapter is not None:
            if not version.adapter.is_file():
                raise ModelError(f"model version {version.id!r}: adapter {version.adapter} is missing")
            digest = sha256_file(version.adapter)
            if version.adapter_sha256 and digest != version.adapter_sha256:
                raise HashMismatch(
                    f"model version {version.id!r}: adapter {version.adapter} has sha256 {digest}, "
                    f"the version pins {version.adapter_sha256}: refusing to load it"
                )
        return version

    # ---- writing -------------------------------------------------------------------------------
    def register(
        self,
        version_id: str,
        base: str,
        adapter: Path | None = None,
        data_card: Path | None = None,
        eval_report: Path | None = None,
        notes: str = "",
        meta: dict | None = None,
        move_adapter: bool = False,
    ) -> ModelVersion:
        """Record a new version: the adapter GGUF, data card and eval report copied into `versions/<id>/`.

        The folder appears complete or not at all (built beside it, then renamed). An id is never reused.
        `move_adapter` moves the adapter instead of copying it (a file just exported for this version).
        """
        self.check_new_id(version_id)
        entry = self.registry.entry(base)
        if entry.get("kind") != "generator":
            raise BadInput(f"{base!r} is a {entry.get('kind')} model, not an answer model")
        for path, what in ((data_card, "data card"), (eval_report, "eval report")):
            if path is not None:
                check_json(Path(path), what)
        if adapter is not None and not Path(adapter).is_file():
            raise NotFound(f"adapter {adapter} not found")
        with self._locked():
            self.check_new_id(version_id)
            tmp = self.root / f".{version_id}.partial-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                record = {
                    "id": version_id,
                    "base": base,
                    "base_sha256": entry["sha256"],
                    "adapter": None,
                    "adapter_sha256": None,
                    "data_card": None,
                    "eval_report": None,
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "notes": notes,
                    "meta": meta or {},
                }
                if adapter is not None:
                    (shutil.move if move_adapter else shutil.copyfile)(str(adapter), str(tmp / ADAPTER_FILE))
                    record.update(adapter=ADAPTER_FILE, adapter_sha256=sha256_file(tmp / ADAPTER_FILE))
                if data_card is not None:
                    shutil.copyfile(data_card, tmp / DATA_CARD_FILE)
                    record["data_card"] = DATA_CARD_FILE
                if eval_report is not None:
                    shutil.copyfile(eval_report, tmp / EVAL_REPORT_FILE)
                    record["eval_report"] = EVAL_REPORT_FILE
                (tmp / MANIFEST_FILE).write_text(json.dumps(record, indent=1))
                for f in tmp.iterdir():
                    with open(f, "rb") as handle:
                        os.fsync(handle.fileno())
                fsync_dir(tmp)
                os.replace(tmp, self.root / version_id)
                fsync_dir(self.root)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        log.info("registered model version %s (%s%s)", version_id, base, " + adapter" if adapter else "")
        return self.get(version_id)

    def export(
        self,
        adapter_dir: Path,
        base: str,
        version_id: str,
        data_card: Path | None = None,
        eval_report: Path | None = None,
        notes: str = "",
        outtype: str = "f32",
    ) -> ModelVersion:
        """Convert the PEFT LoRA adapter in `adapter_dir` (trained on `base`) to a GGUF adapter for llama.cpp
        (`rag.models.lora_export`) and register it as the new version `version_id`; how it was converted is in `meta`."""
        from rag.models.lora_export import export_lora

        self.check_new_id(version_id)  # before a slow conversion
        resolved = self.registry.resolve(base)  # the base must be assembled and verified
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".export-{version_id}-{os.getpid()}.gguf"
        try:
            exported = export_lora(Path(adapter_dir), resolved.path, tmp, outtype=outtype, name=version_id)
            meta = {k: v for k, v in exported.as_dict().items() if k != "path"}
            meta["adapter_dir"] = str(Path(adapter_dir).resolve())
            return self.register(
                version_id,
                base,
                adapter=tmp,
                data_card=data_card,
                eval_report=eval_report,
                notes=notes,
                meta=meta,
                move_adapter=True,
            )
        finally:
            tmp.unlink(missing_ok=True)

    def check_new_id(self, version_id: str) -> None:
        """BadInput unless `version_id` is well formed and names no version yet."""
        if not ID_PATTERN.fullmatch(version_id or ""):
            raise BadInput(f"version id {version_id!r}: use letters, digits, '.', '_' and '-' (at most 64)")
        if version_id in {v.id for v in self.builtin() + self.packaged()} or (self.root / version_id).exists():
            raise BadInput(f"model version {version_id!r} exists already; choose another name")

    def use(self, version_id: str) -> ModelVersion:
        """Serve `version_id` from now on (verified first); the version it replaces goes onto the history."""
        version = self.verify(self.get(version_id))
        self.registry.resolve(version.base)  # the base must be assembled and verified too
        with self._locked():
            state = self.state()
            if state["version"] != version.id:
                history = [*state["history"], state["version"]][-HISTORY_KEPT:]
                self._point_at(version.id, history)
        log.info("model version %s is current", version.id)
        return version

    def rollback(self) -> ModelVersion:
        """Serve the version that was current before the last `use` again (None on the history: the settings)."""
        with self._locked():
            state = self.state()
            if not state["history"]:
                raise BadInput("no earlier model version to roll back to (see `rag models list`)")
            *history, previous = state["history"]
            target = self.verify(self.get(previous)) if previous else self.from_settings()
            self._point_at(previous, history)
        log.info("rolled back to model version %s", target.id)
        return target

    def _point_at(self, version_id: str | None, history: builtins.list[str | None]) -> None:  # `list` is a method here
        write_pointer(self.pointer, version_id, history)

    @contextmanager
    def _locked(self):
        """One writer at a time (two `rag models use` at once must not lose a history entry)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with locked(self.root / ".lock"):
            yield


def read_pointer(path: Path) -> dict:
    """A `current.json` pointer: {"version": id or None, "history": [older ids, last is newest]}; both empty when
    the file does not exist; ModelError when it cannot be read."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {"version": None, "history": []}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is unreadable ({exc}); fix it or remove it to serve as the settings say") from exc
    return {"version": data.get("version"), "history": list(data.get("history") or [])}


def write_pointer(path: Path, version_id: str | None, history: list[str | None]) -> None:
    """Point `path` at `version_id` with `history`, atomically (a reader sees the old pointer or the new one)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_atomic(Path(path), json.dumps({"version": version_id, "history": history, "switched_at": stamp}))


def check_json(path: Path, what: str) -> None:
    try:
        json.loads(path.read_text())
    except OSError as exc:
        raise NotFound(f"{what} {path} not found") from exc
    except ValueError as exc:
        raise BadInput(f"{what} {path} is not JSON: {exc}") from exc
