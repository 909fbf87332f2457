"""Answers from the real 0.5B GGUF through llama.cpp, over real retrieval."""

import pytest

from ingest.pipeline import Ingestor
from rag.answering.answer import EMPTY_INDEX
from rag.answering.prompts import EXAMPLE, SYSTEM
from rag.core.errors import BadInput
from rag.generation.factory import make_generator
from rag.service.services import Services
from tests.helpers.models import SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def services(tmp_path_factory, docs):
    s = Services(make_settings(tmp_path_factory.mktemp("ask")))
    report = Ingestor(s).ingest_paths([docs["facts"], docs["table"], docs["image"]])
    assert report.ok, report.as_dict()
    return s


def test_answer_cites_sources_that_exist(services):
    answer = services.ask("Who inspected the harbour crane?", k=3)
    assert answer.model.name == SMALL_MODEL
    assert answer.model.sha256 == services.registry.entry(SMALL_MODEL)["sha256"]
    assert answer.hits and answer.hits[0].doc == "facts.pdf" and answer.hits[0].page == 1
    assert answer.answer.strip()
    hit_ids = {h.chunk_id for h in answer.hits}
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert c.chunk_id in hit_ids and c.quote and c.quote in answer.hits[c.n - 1].text
    assert set(answer.timings_ms) >= {"retrieval_ms", "generation_ms", "tokens_per_s", "total_ms"}


def test_generator_reports_tokens(services):
    gen = services.generator.generate([{"role": "user", "content": "Say OK."}], max_tokens=8)
    assert gen.text and gen.completion_tokens >= 1 and gen.prompt_tokens > 3


def test_the_fixed_prompt_prefix_is_evaluated_once_and_not_after_a_model_switch(services):
    """llama.cpp keeps the prefix two prompts share: the rules and worked examples are evaluated by the first
    question only. A new generator (what a model switch builds) starts with nothing cached."""
    fixed = [{"role": "system", "content": SYSTEM}, *EXAMPLE]
    services.generator.generate([*fixed, {"role": "user", "content": "Say OK."}], max_tokens=4)
    second = services.generator.generate([*fixed, {"role": "user", "content": "Say yes, please."}], max_tokens=4)
    assert second.cached_tokens >= services.generator.count_tokens(SYSTEM)
    assert second.prompt_tokens - second.cached_tokens < 20  # the user turn and the template's closing tokens

    switched = make_generator(services.settings.generator, services.registry)
    fresh = switched.generate([*fixed, {"role": "user", "content": "Say yes, please."}], max_tokens=4)
    assert fresh.cached_tokens == 0 and fresh.prompt_tokens == second.prompt_tokens


def test_an_answer_says_where_its_prompt_tokens_went(services):
    answer = services.ask("Who inspected the harbour crane?", k=3)
    t = answer.timings_ms
    parts = t["prompt_fixed_tokens"] + t["prompt_sources_tokens"] + t["prompt_question_tokens"]
    assert parts == t["prompt_tokens"] and t["prompt_sources_tokens"] > t["prompt_question_tokens"] > 3
    assert 0 <= t["prompt_cached_tokens"] <= t["prompt_tokens"] and t["prefill_tokens_per_s"] > 0
    assert t["first_token_ms"] > t["retrieval_ms"] and ("check_ms" in t) == (not answer.refused or bool(answer.dropped))


def test_a_growth_question_over_a_real_parsed_table_is_computed_from_its_cells(tmp_path):
    """Parsed, chunked, embedded and retrieved for real; extract mode, so no model: the two cells under the years
    asked are the operands, the service computes the growth and cites the page for both."""
    from tests.helpers import docgen

    rows = [["(in millions)", "2023", "2022"], ["Net sales", "1,400", "1,250"], ["Operating costs", "900", "880"]]
    report = docgen.table_pdf(tmp_path / "acme-report.pdf", "Income statement", rows)
    s = Services(make_settings(tmp_path / "data"))
    assert Ingestor(s).ingest_paths([report]).ok
    answer = s.ask("How much did net sales grow from 2022 to 2023?", k=3, mode="extract")
    assert answer.lookup is not None and answer.lookup.kind == "growth" and answer.lookup.value == "12.0%"
    calc = answer.calculations[0]
    assert calc.result == 12.0 and [op.value for op in calc.operands] == [1250, 1400]
    assert {op.citation for op in calc.operands} == {answer.citations[0].n} and answer.citations[0].page == 1
    assert answer.answer.startswith("Net sales (2022 to 2023): growth(1,250 [1], 1,400 [1]) = 12.0%.")


def test_question_over_an_empty_index_gets_a_clear_answer(tmp_path):
    empty = Services(make_settings(tmp_path))
    answer = empty.ask("What is the meal allowance?")
    assert answer.answer == EMPTY_INDEX and answer.citations == [] and answer.hits == []


def test_blank_question_is_bad_input(services):
    with pytest.raises(BadInput, match="empty"):
        services.ask("   ")


def test_generation_streams_its_pieces_and_can_be_cancelled(services):
    pieces = []
    gen = services.generator.generate([{"role": "user", "content": "Count from 1 to 5."}], max_tokens=16, on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == gen.text and gen.first_token_ms > 0

    class Stop(Exception):
        pass

    def cancel(piece):
        raise Stop

    with pytest.raises(Stop):
        services.generator.generate([{"role": "user", "content": "Count from 1 to 50."}], max_tokens=64, on_token=cancel)
    after = services.generator.generate([{"role": "user", "content": "Say OK."}], max_tokens=4)
    assert after.text  # the context is usable after a cancelled generation


def test_question_about_an_absent_fact_is_refused_with_the_closest_sources(services):
    answer = services.ask("What is the capital of France?", k=3)
    assert answer.refused and answer.answer.startswith("Not found in the documents.")
    assert answer.citations == [] and answer.hits  # the closest sources still come back
    assert "page" in answer.answer


def test_extract_mode_quotes_the_documents_verbatim(services):
    answer = services.ask("Who inspected the harbour crane?", k=3, mode="extract")
    assert not answer.refused and answer.mode == "extract" and "Ingrid Solheim" in answer.answer
    by_id = {h.chunk_id: h.text for h in answer.hits}
    for c in answer.citations:
        assert c.quote in by_id[c.chunk_id]  # character for character
    for line in answer.answer.splitlines():
        body = line.rsplit(" [", 1)[0]
        assert any(body in text for text in by_id.values()), line


def test_streamed_pieces_make_up_the_generated_text(services):
    pieces = []
    answer = services.ask("Who inspected the harbour crane?", k=3, on_token=pieces.append)
    assert pieces and answer.timings_ms["first_token_ms"] <= answer.timings_ms["total_ms"]


def test_the_model_rewrites_a_follow_up_that_rules_cannot(services):
    """A follow-up whose subject is the previous answer ("she"): the 0.5B writes the standalone question."""
    from rag.conversation.rewrite import Turn
    from rag.service.chat import Chat

    history = [Turn("Who runs the Fjordvik plant?", "Ingrid Berg runs the Fjordvik plant [1].")]
    rewritten = Chat(services).standalone("When did she start?", history)
    assert rewritten.method == "model" and "Ingrid Berg" in rewritten.question and "\n" not in rewritten.question
