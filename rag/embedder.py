"""Embedder seam: `embed(texts) -> float32[n, dim]`, L2-normalised."""

import logging
import os
import threading
from typing import Protocol

import numpy as np

from rag.models import ModelRegistry, ResolvedModel
from rag.settings import EmbedderSettings

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """sentence-transformers over a packaged, sha256-verified model folder. Loads on first use."""

    def __init__(self, settings: EmbedderSettings, registry: ModelRegistry):
        self.settings = settings
        self.registry = registry
        self.name = settings.model
        self.dim = int(registry.entry(settings.model).get("dim", 0))
        self._model = None
        self._resolved: ResolvedModel | None = None
        self._lock = threading.Lock()

    @property
    def sha256(self) -> str:
        return self.resolved.sha256

    @property
    def resolved(self) -> ResolvedModel:
        if self._resolved is None:
            self._resolved = self.registry.resolve(self.name)
        return self._resolved

    def warm_up(self):
        """Verify and load the weights (idempotent)."""
        with self._lock:
            if self._model is not None:
                return self._model
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()

            device = self.settings.device
            if device == "auto":
                import torch

                device = "cuda" if torch.cuda.is_available() else "cpu"
            self._model = SentenceTransformer(str(self.resolved.path), device=device, local_files_only=True)
            self.dim = self._model.get_embedding_dimension()
            log.info("embedder %s loaded on %s", self.name, device)
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts into unit-length float32 rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.warm_up()
        vecs = model.encode(list(texts), batch_size=self.settings.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)
