"""Answering: retrieve, pack numbered sources into the model's budget, generate, check citations."""

import logging
import time

from rag.citations import resolve_citations
from rag.errors import BadInput
from rag.generator import Generator
from rag.knowledge import KnowledgeBase
from rag.prompts import build_messages
from rag.types import Answer, Filters, Hit, ModelRef, SearchResult

log = logging.getLogger(__name__)

EMPTY_INDEX = "No documents have been ingested yet, so there is nothing to answer from. Ingest documents first."
NO_MATCH = "Not found in the documents."


def check_question(question: str, k: int) -> str:
    question = (question or "").strip()
    if not question:
        raise BadInput("the question is empty")
    if len(question) > 2000:
        raise BadInput("the question is longer than 2000 characters")
    if not 1 <= k <= 50:
        raise BadInput("k must be between 1 and 50")
    return question


def search(kb: KnowledgeBase, question: str, k: int, collection: str | None = None,
           filters: Filters | None = None) -> SearchResult:
    """Ranked chunks for a question (the shared core of `rag search` and `POST /v1/search`)."""
    question = check_question(question, k)
    hits, timings = kb.search(question, k, collection, filters)
    return SearchResult(query=question, hits=hits, timings_ms=timings)


def fit_sources(generator: Generator, question: str, hits: list[Hit], budget: int) -> list[Hit]:
    """Drop the least relevant sources until the prompt fits `budget` tokens (always keep one)."""
    count = getattr(generator, "count_tokens", None)
    if count is None:
        return hits
    kept = list(hits)
    while len(kept) > 1:
        text = "\n".join(m["content"] for m in build_messages(question, kept))
        if count(text) <= budget:
            break
        kept.pop()
    return kept


def ask(kb: KnowledgeBase, generator: Generator, question: str, k: int = 5, collection: str | None = None,
        max_tokens: int = 256, n_ctx: int = 4096, filters: Filters | None = None) -> Answer:
    """A cited answer from the top-k chunks (the shared core of `rag ask` and `POST /v1/ask`)."""
    t0 = time.perf_counter()
    result = search(kb, question, k, collection, filters)
    model = generator.ref()
    timings = dict(result.timings_ms, retrieval_ms=round((time.perf_counter() - t0) * 1000, 2))
    if not result.hits:
        text = EMPTY_INDEX if kb.index().size == 0 else NO_MATCH
        return Answer(answer=text, citations=[], model=model, hits=[], timings_ms=timings)
    hits = fit_sources(generator, result.query, result.hits, n_ctx - max_tokens - 64)
    gen = generator.generate(build_messages(result.query, hits), max_tokens=max_tokens)
    text, citations = resolve_citations(gen.text, hits)
    decode_ms = gen.decode_ms or max(gen.total_ms - gen.prompt_ms, 1e-6)
    timings.update(generation_ms=round(gen.total_ms, 1), prompt_ms=round(gen.prompt_ms, 1),
                   prompt_tokens=gen.prompt_tokens,
                   completion_tokens=gen.completion_tokens,
                   tokens_per_s=round(gen.completion_tokens / (decode_ms / 1000), 2),
                   total_ms=round((time.perf_counter() - t0) * 1000, 1))
    return Answer(answer=text, citations=citations, model=model, hits=result.hits, timings_ms=timings)
