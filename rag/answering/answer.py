"""Answering: retrieve, pack numbered sources into the model's budget, generate, check every citation.

Two modes. `generate`: the model answers with `[n]` per sentence; each sentence is checked against the
source it cites (rag.answering.citations.check_citations) and unsupported ones are dropped; when nothing survives,
the model gets one more try, then the answer is a refusal listing the closest sources. `extract`: no free
generation: the best sentences and table rows are returned verbatim (rag.answering.extract), optionally followed by
a summary the model writes from those quotes alone (checked the same way).

A calculation in a generated answer (rag.answering.calculations) is checked operand by operand and computed by the
service; the answer carries them in `calculations`. A bare number or heading is no answer (rag.answering.fragments).
Where the answer would be a refusal and a table row the question names is among the sources of a document it names,
the answer is that cell, read without a model (rag.answering.lookup), and says so in `lookup`.
"""

import logging
import time

from rag.answering.citations import check_answer, check_citations, resolve_citations
from rag.answering.extract import extract
from rag.answering.lookup import lookup
from rag.answering.prompts import NOT_FOUND, RETRY, build_messages, is_refusal, summary_messages
from rag.answering.table_calculations import table_calculation
from rag.core.errors import BadInput
from rag.core.settings import AnswerSettings
from rag.core.types import Answer, Citation, Filters, Hit, SearchResult, TableLookup
from rag.generation.protocol import Generation, Generator, OnToken
from rag.retrieval.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)

EMPTY_INDEX = "No documents have been ingested yet, so there is nothing to answer from. Ingest documents first."
NO_MATCH = NOT_FOUND
MODES = ("generate", "extract")


def check_question(question: str, k: int) -> str:
    question = (question or "").strip()
    if not question:
        raise BadInput("the question is empty")
    if len(question) > 2000:
        raise BadInput("the question is longer than 2000 characters")
    if not 1 <= k <= 50:
        raise BadInput("k must be between 1 and 50")
    return question


def search(
    kb: KnowledgeBase, question: str, k: int, collection: str | None = None, filters: Filters | None = None
) -> SearchResult:
    """Ranked chunks for a question (the shared core of `rag search` and `POST /v1/search`)."""
    question = check_question(question, k)
    hits, timings = kb.search(question, k, collection, filters)
    return SearchResult(query=question, hits=hits, timings_ms=timings)


def fit_sources(
    generator: Generator, question: str, hits: list[Hit], budget: int, source_words: int = 0, tables: str = "rows"
) -> list[Hit]:
    """Drop the least relevant sources until the prompt fits `budget` tokens (always keep one)."""
    count = getattr(generator, "count_tokens", None)
    if count is None:
        return hits
    kept = list(hits)
    while len(kept) > 1:
        text = "\n".join(m["content"] for m in build_messages(question, kept, source_words, tables))
        if count(text) <= budget:
            break
        kept.pop()
    return kept


def refusal(hits: list[Hit], reason: str) -> str:
    """The "not found" answer, naming the closest sources so a person can look for themselves."""
    if not hits:
        return NOT_FOUND
    near = "; ".join(dict.fromkeys(f"{h.doc} page {h.page}" for h in hits[:3]))
    log.info("refused (%s)", reason)
    return f"{NOT_FOUND} The closest passages are in: {near}."


def weak_retrieval(hits: list[Hit], threshold: float) -> bool:
    """True when the best dense similarity is below the calibrated threshold (0 disables the check)."""
    scores = [h.dense_score for h in hits if h.dense_score is not None]
    return bool(threshold and scores and max(scores) < threshold)


def ask(
    kb: KnowledgeBase,
    generator: Generator,
    question: str,
    k: int = 5,
    collection: str | None = None,
    max_tokens: int = 256,
    n_ctx: int = 4096,
    filters: Filters | None = None,
    settings: AnswerSettings | None = None,
    mode: str | None = None,
    summarize: bool = False,
    on_token: OnToken | None = None,
) -> Answer:
    """A checked, cited answer from the top-k chunks (the shared core of `rag ask` and `POST /v1/ask`)."""
    cfg = settings or AnswerSettings()
    mode = (mode or cfg.mode).lower()
    if mode not in MODES:
        raise BadInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    t0 = time.perf_counter()
    result = search(kb, question, k, collection, filters)
    timings = dict(result.timings_ms, retrieval_ms=_ms(t0))
    if not result.hits:
        text = EMPTY_INDEX if kb.index().size == 0 else NO_MATCH
        timings["total_ms"] = _ms(t0)
        return Answer(answer=text, refused=True, citations=[], mode=mode, hits=result.hits, timings_ms=timings)
    if weak_retrieval(result.hits, cfg.min_retrieval):
        timings["total_ms"] = _ms(t0)
        text = refusal(result.hits, "weak retrieval")
        return Answer(answer=text, refused=True, citations=[], mode=mode, hits=result.hits, timings_ms=timings)
    if mode == "extract":
        table = _from_tables(kb, result.query, result.hits, collection, cfg) if cfg.table_lookup else None
        answer = _extract(generator, result.query, result.hits, cfg, summarize, max_tokens, on_token, timings, table)
    else:
        hits = fit_sources(generator, result.query, result.hits, n_ctx - max_tokens - 64, cfg.source_words, cfg.tables)
        answer = _generate(generator, result.query, hits, cfg, max_tokens, on_token, timings)
        if answer.refused and cfg.table_lookup and (table := _from_tables(kb, result.query, hits, collection, cfg)):
            answer = table.model_copy(update={"dropped": answer.dropped, "model": answer.model, "draft": answer.draft})
    timings["total_ms"] = _ms(t0)
    answer.hits, answer.mode, answer.timings_ms = result.hits, mode, timings
    return answer


def _from_tables(kb: KnowledgeBase, question: str, hits: list[Hit], collection: str | None, cfg: AnswerSettings) -> Answer | None:
    """The answer read from the sources' tables without a model: the cell the question names (rag.answering.lookup)
    or a calculation over cells (rag.answering.table_calculations, checked and computed like a model's). Only
    sources of the documents the question names are used (all when the collection holds one document); None when
    the tables do not answer."""
    routed = [n for n, h in enumerate(hits, 1) if h.route]
    if not routed and len(kb.store.documents(collection)) != 1:
        return None  # a question naming no document we hold is never answered from some document's table
    if cell := lookup(question, hits, routed or None):
        hit = hits[cell.n - 1]
        citation = Citation(n=cell.n, doc=hit.doc, page=hit.page, chunk_id=hit.chunk_id, bbox=hit.bbox, quote=cell.row)
        found = TableLookup(n=cell.n, label=cell.label, column=cell.column, value=cell.value, scale=cell.scale)
        return Answer(answer=cell.text, citations=[citation], lookup=found)
    calc = table_calculation(question, hits, routed or None)
    if calc is None:
        return None
    checked = check_answer(calc.draft, hits, question, cfg.min_support)
    if not checked.calculations:
        log.info("table calculation not verified: %s", checked.dropped)
        return None
    result = checked.calculations[0]
    found = TableLookup(n=calc.n, label=calc.label, column=calc.column, value=result.text, scale=calc.scale, kind=calc.function)
    return Answer(answer=checked.text, citations=checked.citations, calculations=checked.calculations, lookup=found)


def _generate(
    generator: Generator,
    question: str,
    hits: list[Hit],
    cfg: AnswerSettings,
    max_tokens: int,
    on_token: OnToken | None,
    timings: dict,
) -> Answer:
    messages = build_messages(question, hits, cfg.source_words, cfg.tables)
    gen = generator.generate(messages, max_tokens=max_tokens, on_token=on_token)
    _gen_timings(timings, gen)
    timings.update(prompt_parts(generator, messages, question, gen.prompt_tokens))
    model = generator.ref()
    if is_refusal(gen.text):
        return Answer(answer=refusal(hits, "the model found no answer"), refused=True, citations=[], model=model, draft=gen.text)
    if not cfg.check:
        text, citations = resolve_citations(gen.text, hits)
        return Answer(answer=text, citations=citations, model=model, draft=gen.text)
    t_check = time.perf_counter()
    checked = check_answer(gen.text, hits, question, cfg.min_support)
    timings["check_ms"] = _ms(t_check)
    dropped = checked.dropped
    if not checked.citations and cfg.regenerate:
        timings["retries"] = 1
        retry = [*messages, {"role": "assistant", "content": gen.text}, {"role": "user", "content": RETRY}]
        again = generator.generate(retry, max_tokens=max_tokens)
        _gen_timings(timings, again, prefix="retry_")
        if is_refusal(again.text):
            return Answer(
                answer=refusal(hits, "the model found no answer on retry"),
                refused=True,
                citations=[],
                dropped=dropped,
                model=model,
                draft=gen.text,
            )
        t_check = time.perf_counter()
        checked = check_answer(again.text, hits, question, cfg.min_support)
        timings["check_ms"] = round(timings["check_ms"] + _ms(t_check), 2)
        dropped += checked.dropped
    if not checked.citations:
        return Answer(
            answer=refusal(hits, "no sentence survived the citation check"),
            refused=True,
            citations=[],
            dropped=dropped,
            model=model,
            draft=gen.text,
        )
    return Answer(
        answer=checked.text,
        citations=checked.citations,
        dropped=dropped,
        calculations=checked.calculations,
        model=model,
        draft=gen.text,
    )


def _extract(
    generator: Generator,
    question: str,
    hits: list[Hit],
    cfg: AnswerSettings,
    summarize: bool,
    max_tokens: int,
    on_token: OnToken | None,
    timings: dict,
    table: Answer | None = None,
) -> Answer:
    quotes = extract(question, hits, max_quotes=cfg.max_quotes)
    if not quotes:
        if table is not None:
            return table
        return Answer(answer=refusal(hits, "no sentence matches the question"), refused=True, citations=[])
    citations = [
        Citation(
            n=q.n,
            doc=hits[q.n - 1].doc,
            page=hits[q.n - 1].page,
            chunk_id=hits[q.n - 1].chunk_id,
            bbox=hits[q.n - 1].bbox,
            quote=q.text,
        )
        for q in quotes
    ]
    text = "\n".join(f"{q.header}\n{q.text} [{q.n}]" if q.header else f"{q.text} [{q.n}]" for q in quotes)
    calculations = []
    if table is not None:  # the looked-up cell or the calculation first, then the quotes
        text = f"{table.answer}\n{text}"
        rows = {c.quote for c in table.citations}
        citations = [*table.citations, *[c for c in citations if c.quote not in rows]]
        calculations = table.calculations
    if on_token is not None:
        on_token(text)
    lookup_ref = table.lookup if table else None
    if not summarize:
        return Answer(answer=text, citations=citations, lookup=lookup_ref, calculations=calculations)
    gen = generator.generate(summary_messages(question, [(q.n, q.text) for q in quotes]), max_tokens=max_tokens)
    _gen_timings(timings, gen)
    sources = [
        Hit(**{**hits[n - 1].model_dump(), "text": "\n".join(q.text for q in quotes if q.n == n)})
        for n in range(1, len(hits) + 1)
    ]
    summary, _, dropped = check_citations(gen.text, sources, question, cfg.min_support)
    if is_refusal(gen.text):
        summary = ""
    return Answer(
        answer=text,
        citations=citations,
        lookup=lookup_ref,
        calculations=calculations,
        summary=summary or None,
        dropped=dropped,
        model=generator.ref(),
    )


def _gen_timings(timings: dict, gen: Generation, prefix: str = "") -> None:
    """A generation's times and token counts: `prompt_cached_tokens` were reused from the previous call's state
    (llama.cpp keeps the prefix two prompts share), so prefill speed counts the tokens evaluated."""
    decode_ms = gen.decode_ms or max(gen.total_ms - gen.prompt_ms, 1e-6)
    evaluated = gen.prompt_tokens - gen.cached_tokens
    timings.update(
        {
            f"{prefix}generation_ms": round(gen.total_ms, 1),
            f"{prefix}prompt_ms": round(gen.prompt_ms, 1),
            f"{prefix}prompt_tokens": gen.prompt_tokens,
            f"{prefix}prompt_cached_tokens": gen.cached_tokens,
            f"{prefix}prefill_tokens_per_s": round(evaluated / (gen.prompt_ms / 1000), 2) if gen.prompt_ms > 0 else 0.0,
            f"{prefix}completion_tokens": gen.completion_tokens,
            f"{prefix}tokens_per_s": round(gen.completion_tokens / (decode_ms / 1000), 2),
        }
    )
    if not prefix:
        timings["first_token_ms"] = round(timings.get("retrieval_ms", 0) + gen.first_token_ms, 1)


def prompt_parts(generator: Generator, messages: list[dict], question: str, prompt_tokens: int) -> dict[str, int]:
    """Where the prompt's tokens went: the fixed part (rules, worked examples and the chat template, the same for
    every question), the sources and the question. Counted with the model's tokenizer; {} when it has none."""
    count = getattr(generator, "count_tokens", None)
    if count is None or not prompt_tokens:
        return {}
    user, asked = count(messages[-1]["content"]), count(question.strip())
    return {
        "prompt_fixed_tokens": max(prompt_tokens - user, 0),
        "prompt_sources_tokens": max(user - asked, 0),
        "prompt_question_tokens": asked,
    }


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)
