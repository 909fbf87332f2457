"""Every backend of a seam has every member of the seam's protocol (one protocol per seam)."""

import pytest

from ingest.jobs.protocol import JobQueue
from ingest.jobs.queue import HueyJobQueue
from ingest.ocr.engines import OcrReader, RapidOcrReader
from ingest.ocr.tesseract import TesseractReader
from rag.generation.llama_cpp import LlamaCppGenerator
from rag.generation.openai_compatible import OpenAIGenerator
from rag.generation.protocol import Generator
from rag.generation.transformers import TransformersGenerator
from rag.retrieval.embedder import Embedder, SentenceTransformerEmbedder
from rag.retrieval.lexical import Bm25Index, LexicalIndex
from rag.retrieval.vector_index import FaissIndex, VectorIndex
from rag.store.database import Database, PostgresDatabase, SqliteDatabase
from rag.store.protocol import Store
from rag.store.sql import SqlStore
from tests.helpers.apps import EchoGenerator, HashEmbedder


def members(protocol) -> set[str]:
    return {n for n in dir(protocol) if not n.startswith("_")} | set(getattr(protocol, "__annotations__", {}))


@pytest.mark.parametrize(
    "protocol, backend",
    [
        (Embedder, SentenceTransformerEmbedder),
        (Embedder, HashEmbedder),
        (VectorIndex, FaissIndex),
        (LexicalIndex, Bm25Index),
        (Store, SqlStore),
        (Database, SqliteDatabase),
        (Database, PostgresDatabase),
        (JobQueue, HueyJobQueue),
        (OcrReader, RapidOcrReader),
        (OcrReader, TesseractReader),
        (Generator, LlamaCppGenerator),
        (Generator, TransformersGenerator),
        (Generator, OpenAIGenerator),
    ],
)
def test_the_backend_has_every_member_of_its_protocol(protocol, backend):
    missing = {m for m in members(protocol) if not hasattr(backend, m) and m not in _instance_attributes(backend)}
    assert not missing, f"{backend.__name__} lacks {sorted(missing)} of {protocol.__name__}"


def _instance_attributes(cls) -> set[str]:
    """Names set in __init__ (`self.name = ...`), which hasattr on the class does not see."""
    import inspect
    import re

    try:
        return set(re.findall(r"self\.(\w+)\s*[:=]", inspect.getsource(cls.__init__)))
    except (TypeError, OSError):
        return set()


def test_the_fakes_used_by_api_tests_follow_the_generator_protocol_too():
    assert {"warm_up", "ref", "generate"} <= {m for m in members(Generator) if hasattr(EchoGenerator, m)}
