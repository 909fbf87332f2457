"""Where the tests find the real packaged models, and the settings a test runs on."""

import os
from pathlib import Path

from rag.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = Path(os.environ.get("RAG_MODELS_DIR", ROOT / "var" / "models"))
SMALL_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def make_settings(data_dir: Path, model: str = SMALL_MODEL) -> Settings:
    """Settings for a test: its own data dir, the shared assembled models, the small generator."""
    return Settings(data_dir=data_dir, models_dir=MODELS_DIR, generator={"model": model, "n_ctx": 2048})
