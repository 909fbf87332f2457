import numpy as np
import pytest

from rag.models.registry import ModelRegistry
from rag.retrieval.embedder import SentenceTransformerEmbedder
from tests.helpers.models import make_settings

pytestmark = pytest.mark.slow


def test_packaged_minilm_embeds_unit_vectors_that_rank_by_meaning(tmp_path):
    settings = make_settings(tmp_path)
    embedder = SentenceTransformerEmbedder(settings.embedder, ModelRegistry(settings))
    vecs = embedder.embed(
        ["When is lunch served?", "The cafeteria serves lunch from 11:30.", "The crane was inspected in March."]
    )
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    assert embedder.sha256 == ModelRegistry(settings).entry("all-MiniLM-L6-v2")["sha256"]
    assert embedder.embed([]).shape == (0, 384)
