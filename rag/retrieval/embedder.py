"""Embedder seam: `embed(texts) -> float32[n, dim]`, L2-normalised.

Backends of the same model (`RAG_EMBEDDER__BACKEND`): `torch` (sentence-transformers as shipped), `int8` (the same
model with its Linear layers dynamically quantised to int8 on CPU) and `onnx` (ONNX Runtime over a local export of
the same weights). `auto` (the default) is `onnx` on CPU, where it measured about 2x torch's throughput with the
same retrieval quality, and `torch` when the embedder runs on a GPU (docs/benchmarks.md, "Embedding backends").
Their vectors differ slightly, so the backend is part of the embedder's identity and is recorded in every index
version's manifest; searching an index built by another backend is refused, and a write re-embeds it first.

Embedder versions (`rag.models.embedder_versions`): the packaged model, or a copy of it tuned on the user's corpus
(`rag finetune embedder`) and registered with its sha256, read from its version folder (its own sentence-transformers
folder and ONNX export, both checked against their record at load). A tuned version's identity carries its
folder's sha256 and its id, so an index embedded by another version is refused until it is rebuilt.

Batching by length: sentence-transformers' `encode` already sorts the texts by length (longest first), batches
them and restores the caller's order, so the torch and int8 backends rely on it; the onnx backend does the same
itself. `bench/embed_speed.py` measures what the sorting is worth.
"""

import logging
import os
import threading
from typing import Protocol

import numpy as np

from rag.core.errors import BadInput, HashMismatch, ModelError
from rag.core.settings import EmbedderSettings
from rag.core.threads import cores
from rag.models.embedder_versions import EmbedderVersion
from rag.models.registry import ModelRegistry, ResolvedModel

log = logging.getLogger(__name__)

BACKENDS = ("torch", "int8", "onnx")


def resolve_backend(backend: str, device: str) -> str:
    """The backend to run: the setting, or for "auto" torch on a GPU and onnx on CPU."""
    if backend != "auto":
        return backend
    if device == "cuda":
        return "torch"
    if device == "auto":
        import torch

        return "torch" if torch.cuda.is_available() else "onnx"
    return "onnx"


class Embedder(Protocol):
    """Embedder seam: texts -> L2-normalised float32 vectors [n, dim]."""

    name: str
    dim: int

    def warm_up(self) -> None: ...

    def identity(self) -> dict:
        """Name, weights sha256 and backend, as an index manifest records them (vectors of another identity are
        not comparable)."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def thread_count(setting: int) -> int:
    """Threads for inference: the setting, or every core the process may use when it is 0."""
    return setting if setting > 0 else cores()


class SentenceTransformerEmbedder:
    """sentence-transformers over a packaged, sha256-verified model folder, or the folder of a registered embedder
    version (`version`; default: the packaged `settings.model`). Loads on first use."""

    def __init__(self, settings: EmbedderSettings, registry: ModelRegistry, version: EmbedderVersion | None = None):
        if settings.backend not in (*BACKENDS, "auto"):
            raise BadInput(f"unknown embedder backend {settings.backend!r} (auto, {', '.join(BACKENDS)})")
        self.settings = settings
        self.registry = registry
        self.version = version
        self.name = version.base if version else settings.model
        self._backend: str | None = None
        self.dim = int(registry.entry(self.name).get("dim", 0))
        self._model = None
        self._resolved: ResolvedModel | None = None
        self._artifact_sha256 = ""
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """The backend in use ("auto" resolved on first need)."""
        if self._backend is None:
            self._backend = resolve_backend(self.settings.backend, self.settings.device)
        return self._backend

    @property
    def sha256(self) -> str:
        return self.resolved.sha256

    @property
    def resolved(self) -> ResolvedModel:
        """The verified weights: the packaged model, or a registered version's model folder (hashed as a folder,
        cached on its files' sizes and times like the packaged one)."""
        if self._resolved is None:
            version = self.version
            if version is None or version.model_dir is None:
                self._resolved = self.registry.resolve(self.name)
            else:
                digest = self.registry.cache.sha256(version.model_dir)
                if digest != version.sha256:
                    raise HashMismatch(
                        f"embedder version {version.id!r}: {version.model_dir} has sha256 {digest}, "
                        f"the version pins {version.sha256}: refusing to load it"
                    )
                self._resolved = ResolvedModel(self.name, version.model_dir, digest, self.registry.entry(self.name))
        return self._resolved

    def identity(self) -> dict:
        """What an index version records about the vectors in it (compared at search time)."""
        ident = {"name": self.name, "sha256": self.sha256, "backend": self.backend}
        if self.version is not None and self.version.source != "builtin":
            ident["version"] = self.version.id
        if self._artifact_sha256:
            ident["artifact_sha256"] = self._artifact_sha256
        return ident

    def warm_up(self):
        """Verify and load the weights (idempotent)."""
        with self._lock:
            if self._model is not None:
                return self._model
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            threads = thread_count(self.settings.threads)
            self._model = self._load_onnx(threads) if self.backend == "onnx" else self._load_torch(threads)
            log.info("embedder %s (%s backend, %d threads) loaded", self.name, self.backend, threads)
            return self._model

    def _load_torch(self, threads: int):
        import torch
        from sentence_transformers import SentenceTransformer

        device = self.settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() and self.backend == "torch" else "cpu"
        if self.backend == "int8" and device != "cpu":
            raise BadInput("the int8 embedder backend runs on CPU only (set RAG_EMBEDDER__DEVICE=cpu or auto)")
        torch.set_num_threads(threads)
        model = SentenceTransformer(str(self.resolved.path), device=device, local_files_only=True)
        if self.backend == "int8":
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao's notice that the API moves to torchao
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        dim = model.get_embedding_dimension()
        if dim is None:
            raise ModelError(f"embedder {self.name!r} does not report the dimension of its vectors")
        self.dim = dim
        return model

    def _load_onnx(self, threads: int):
        from rag.retrieval.onnx_embedder import OnnxEncoder, verified_export, verified_export_at

        resolved = self.resolved
        onnx_dir = self.version.onnx_dir if self.version is not None else None
        if onnx_dir is not None:  # a registered version's own export, made when it was registered
            path, digest = verified_export_at(onnx_dir, resolved.path, resolved.sha256, self.registry.cache, make=False)
        else:
            path, digest = verified_export(
                self.registry.settings.models_path, self.name, resolved.path, resolved.sha256, self.registry.cache
            )
        self._artifact_sha256 = digest
        return OnnxEncoder(path, resolved.path, threads, int(resolved.entry.get("max_seq_length", 256)))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts into unit-length float32 rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.warm_up()
        if self.backend == "onnx":
            vecs = model.encode(list(texts), self.settings.batch_size)
        else:
            vecs = model.encode(
                list(texts),
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)
