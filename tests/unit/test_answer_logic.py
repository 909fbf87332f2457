"""The logic around the generator (packing, checking, retrying, refusing), with a scripted stand-in model.
The real model is exercised in tests/integration/test_answer.py."""

from types import SimpleNamespace

import pytest

from rag.answering.answer import ask, fit_sources, prompt_parts
from rag.answering.prompts import build_messages
from rag.core.errors import BadInput
from rag.core.settings import AnswerSettings
from rag.core.types import Hit, ModelRef
from rag.generation.protocol import Generation

SOURCES = [
    "The harbour crane was inspected on 14 March 2024 by Ingrid Solheim.",
    "The cafeteria serves lunch between 11:30 and 13:30.",
]


class ScriptedGenerator:
    name = "scripted"

    def __init__(self, *replies: str):
        self.replies = list(replies)
        self.calls: list[list[dict]] = []

    def ref(self) -> ModelRef:
        return ModelRef(name=self.name, backend="test")

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, messages, max_tokens, stop=None, on_token=None) -> Generation:
        self.calls.append(messages)
        text = self.replies.pop(0)
        for word in text.split(" "):
            if on_token:
                on_token(word + " ")
        return Generation(
            text=text,
            prompt_tokens=10,
            completion_tokens=len(text.split()),
            prompt_ms=1,
            decode_ms=1,
            total_ms=2,
            first_token_ms=1,
        )


def kb(dense: float = 0.6):
    hits = [
        Hit(chunk_id=f"c{i}", doc_id="d", doc="site.pdf", page=i + 1, score=1.0, dense_score=dense, text=t)
        for i, t in enumerate(SOURCES)
    ]
    return fake_kb(hits)


def fake_kb(hits: list[Hit], documents: int = 2):
    """A knowledge base whose every search gives `hits`, over a collection of `documents` documents."""
    store = SimpleNamespace(documents=lambda collection=None: [object()] * documents)
    return SimpleNamespace(
        search=lambda q, k, c, f: (hits[:k], {"embed_ms": 1.0}), index=lambda: SimpleNamespace(size=2), store=store
    )


def test_a_supported_answer_passes_with_its_citation():
    gen = ScriptedGenerator("Ingrid Solheim inspected the harbour crane on 14 March 2024 [1].")
    streamed = []
    answer = ask(kb(), gen, "Who inspected the harbour crane?", on_token=streamed.append)
    assert not answer.refused and answer.answer.endswith("[1].") and answer.citations[0].page == 1
    assert "".join(streamed).strip() == "Ingrid Solheim inspected the harbour crane on 14 March 2024 [1]."
    assert len(gen.calls) == 1 and answer.model.name == "scripted" and answer.timings_ms["first_token_ms"] > 0


def test_an_unsupported_answer_is_retried_once_then_refused():
    gen = ScriptedGenerator("The crane was inspected by Ola Nordmann [1].", "It was inspected on 3 June 2023 [1].")
    answer = ask(kb(), gen, "Who inspected the harbour crane?")
    assert answer.refused and answer.answer.startswith("Not found in the documents.")
    assert "site.pdf page 1" in answer.answer  # the closest sources are named
    assert answer.dropped == ["The crane was inspected by Ola Nordmann.", "It was inspected on 3 June 2023."]
    assert len(gen.calls) == 2 and gen.calls[1][-1]["role"] == "user"


def test_a_retry_that_is_supported_is_kept():
    gen = ScriptedGenerator("Ola Nordmann did [1].", "Ingrid Solheim inspected it [1].")
    answer = ask(kb(), gen, "Who inspected the harbour crane?")
    assert not answer.refused and answer.answer == "Ingrid Solheim inspected it [1]."


def test_the_model_refusing_is_a_refusal():
    answer = ask(kb(), ScriptedGenerator("Not found in the documents."), "Who is the CEO?")
    assert answer.refused and answer.citations == []


def test_weak_retrieval_refuses_without_generating():
    gen = ScriptedGenerator()
    answer = ask(kb(dense=0.1), gen, "Who is the CEO?", settings=AnswerSettings(min_retrieval=0.2))
    assert answer.refused and gen.calls == [] and answer.model is None and answer.hits
    assert answer.timings_ms["total_ms"] >= answer.timings_ms["retrieval_ms"] >= 0


def test_checks_can_be_switched_off():
    gen = ScriptedGenerator("The crane was inspected by Ola Nordmann [1].")
    answer = ask(kb(), gen, "Who inspected it?", settings=AnswerSettings(check=False))
    assert not answer.refused and "Ola Nordmann" in answer.answer


def test_extract_mode_never_calls_the_model_unless_asked_to_summarize():
    gen = ScriptedGenerator("Ingrid Solheim inspected the crane [1].")
    answer = ask(kb(), gen, "Who inspected the harbour crane?", mode="extract")
    assert gen.calls == [] and answer.mode == "extract" and answer.model is None
    assert answer.answer == f"{SOURCES[0]} [1]" and answer.citations[0].quote == SOURCES[0]
    summarized = ask(kb(), gen, "Who inspected the harbour crane?", mode="extract", summarize=True)
    assert summarized.summary == "Ingrid Solheim inspected the crane [1]." and len(gen.calls) == 1
    with pytest.raises(BadInput, match="mode"):
        ask(kb(), gen, "x", mode="poem")


def test_sources_are_dropped_from_the_end_to_fit_the_budget():
    hits = [Hit(chunk_id=str(i), doc_id="d", doc="d.pdf", page=i, score=1.0, text="word " * 100) for i in range(5)]
    gen = ScriptedGenerator()

    def size(some):
        return gen.count_tokens("\n".join(m["content"] for m in build_messages("q?", some)))

    kept = fit_sources(gen, "q?", hits, budget=450)
    assert 1 < len(kept) < 5 and [h.chunk_id for h in kept] == [h.chunk_id for h in hits[: len(kept)]]
    assert size(kept) <= 450 < size(hits[: len(kept) + 1])  # the most relevant that fit, in order
    assert len(fit_sources(gen, "q?", hits, budget=10)) == 1  # one source is always kept


def test_prompt_tokens_are_split_into_the_fixed_part_the_sources_and_the_question():
    gen = ScriptedGenerator()
    hits = [Hit(chunk_id="1", doc_id="d", doc="d.pdf", page=1, score=1.0, text="word " * 40)]
    messages = build_messages("How long is the leave?", hits)
    total = gen.count_tokens("\n".join(m["content"] for m in messages)) + 7  # the template's own tokens
    parts = prompt_parts(gen, messages, "How long is the leave?", total)
    assert parts["prompt_question_tokens"] == gen.count_tokens("How long is the leave?")
    assert parts["prompt_sources_tokens"] >= 40 and sum(parts.values()) == total
    assert parts["prompt_fixed_tokens"] == total - gen.count_tokens(messages[-1]["content"])
    assert prompt_parts(gen, messages, "q", 0) == {} and prompt_parts(object(), messages, "q", 100) == {}


def test_a_table_source_can_be_given_as_compact_html():
    from rag.answering.prompts import compact_html, source_text

    html = (
        '<table data-bbox="1,2,3,4">\n <thead><tr><th>Site</th><th colspan="2">Output</th></tr></thead>'
        '<tbody><tr><td class="num">Oslo</td><td>12</td><td>14</td></tr></tbody></table>'
    )
    assert compact_html(html) == (
        '<table><thead><tr><th>Site</th><th colspan="2">Output</th></tr></thead>'
        "<tbody><tr><td>Oslo</td><td>12</td><td>14</td></tr></tbody></table>"
    )
    hit = Hit(chunk_id="t", doc_id="d", doc="d.pdf", page=1, score=1.0, text="Site | Output\nOslo | 12 | 14", html=html)
    assert source_text(hit, "Oslo output?", tables="html").startswith("<table><thead>")
    assert source_text(hit, "Oslo output?", tables="rows") == hit.text
    assert "html" not in hit.model_dump()  # never sent to clients


REPORT = [
    "Acme Corp reported net sales of $1,250 million in 2022.",
    "Selected financial data (in millions)\nNet sales | 2023 | 1,400",
]


def report_kb():
    hits = [
        Hit(chunk_id=f"r{i}", doc_id="r", doc="acme_2023.pdf", page=i + 3, score=1.0, dense_score=0.6, text=t)
        for i, t in enumerate(REPORT)
    ]
    return fake_kb(hits)


def test_a_calculation_is_computed_by_the_service_and_carried_with_both_citations():
    gen = ScriptedGenerator("Net sales grew 15.0% in 2023: (1,400 [2] - 1,250 [1]) / 1,250 [1] * 100 = 15.0%.")
    answer = ask(report_kb(), gen, "How much did Acme's net sales grow in 2023?")
    assert not answer.refused
    assert answer.answer == "Net sales grew 12.0% in 2023: (1,400 [2] - 1,250 [1]) / 1,250 [1] * 100 = 12.0%."
    assert [(c.n, c.page) for c in answer.citations] == [(2, 4), (1, 3)]
    (calc,) = answer.calculations
    assert calc.result == 12.0 and calc.unit == "%" and calc.replaced and calc.stated == "15.0%"
    assert [(o.text, o.citation) for o in calc.operands] == [("1,400", 2), ("1,250", 1), ("1,250", 1)]
    assert answer.draft.endswith("= 15.0%.")  # the model's own text stays in the draft


def test_a_calculation_over_a_number_no_cited_source_writes_is_dropped_then_refused():
    gen = ScriptedGenerator(
        "Net sales grew 12.0%: (1,400 [1] - 1,250 [1]) / 1,250 [1] * 100 = 12.0%.",  # 1,400 is in [2], not [1]
        "Net sales grew 12.0%: (1,400 [2] - 1,205 [1]) / 1,205 [1] * 100 = 16.2%.",  # 1,205: a misread
    )
    answer = ask(report_kb(), gen, "How much did Acme's net sales grow in 2023?")
    assert answer.refused and answer.calculations == [] and len(answer.dropped) == 2 and len(gen.calls) == 2


def test_a_fragment_answer_is_retried_then_refused():
    gen = ScriptedGenerator("1,250 [1].", "Net Sales [2].")  # [1] states 1,250 for 2022, not 2023
    answer = ask(report_kb(), gen, "What were Acme's net sales in 2023?")
    assert answer.refused and answer.dropped == ["1,250.", "Net Sales."] and len(gen.calls) == 2
    # a bare number its source labels with the question's words is written as the source labels it
    named = ask(report_kb(), ScriptedGenerator("1,400 [2]."), "What were Acme's net sales in 2023?")
    assert not named.refused and named.answer == "Net sales: 1,400 [2]."
    kept = ask(report_kb(), ScriptedGenerator("Net sales were 1,400 in 2023 [2]."), "What were net sales in 2023?")
    assert not kept.refused and kept.answer == "Net sales were 1,400 in 2023 [2]."


BALANCE_SHEET = "Consolidated Balance Sheets\n(In millions) | 2023 | 2022\nCash | 310 | 295\nTotal current assets | 1,400 | 1,250"


def balance_kb(route: str | None, documents: int = 2):
    hit = Hit(chunk_id="b", doc_id="b", doc="acme_2023.pdf", page=40, score=1.0, dense_score=0.6, text=BALANCE_SHEET, route=route)
    return fake_kb([hit], documents)


def test_a_refusal_with_the_named_table_row_in_its_sources_is_answered_from_the_cell():
    question = "What were Acme's total current assets at the end of 2022?"
    answer = ask(balance_kb("names 'Acme'"), ScriptedGenerator("Not found in the documents."), question)
    assert not answer.refused and answer.answer == "Total current assets (2022): 1,250 (in millions) [1]"
    assert answer.lookup.value == "1,250" and answer.lookup.column == "2022" and answer.lookup.n == 1
    assert answer.citations[0].quote == "Total current assets | 1,400 | 1,250" and answer.citations[0].page == 40
    assert answer.draft == "Not found in the documents."
    # a question naming no document the collection holds is not answered from whichever table came up
    assert ask(balance_kb(None), ScriptedGenerator("Not found in the documents."), question).refused
    # ... unless the collection holds only that document
    assert not ask(balance_kb(None, documents=1), ScriptedGenerator("Not found in the documents."), question).refused
    off = ask(
        balance_kb("names 'Acme'"),
        ScriptedGenerator("Not found in the documents."),
        question,
        settings=AnswerSettings(table_lookup=False),
    )
    assert off.refused and off.lookup is None


def test_extract_mode_shows_the_looked_up_cell_first():
    answer = ask(balance_kb("names 'Acme'"), ScriptedGenerator(), "How much cash did Acme hold in 2023?", mode="extract")
    assert answer.answer.startswith("Cash (2023): 310 (in millions) [1]\n") and answer.lookup.label == "Cash"
    assert answer.citations[0].quote == "Cash | 310 | 295"


def test_a_refusal_asking_for_a_change_between_two_years_is_computed_from_the_cells():
    question = "How much did Acme's total current assets grow from 2022 to 2023?"
    answer = ask(balance_kb("names 'Acme'"), ScriptedGenerator("Not found in the documents."), question)
    assert not answer.refused and answer.answer == "Total current assets (2022 to 2023): growth(1,250 [1], 1,400 [1]) = 12.0%."
    assert answer.lookup.kind == "growth" and answer.lookup.value == "12.0%" and answer.lookup.column == "2022 to 2023"
    calc = answer.calculations[0]
    assert [op.value for op in calc.operands] == [1250, 1400] and calc.result == 12.0 and not calc.replaced
    assert answer.citations[0].page == 40 and answer.draft == "Not found in the documents."
    # extract mode: the calculation first, no model
    gen = ScriptedGenerator()
    extracted = ask(balance_kb("names 'Acme'"), gen, question, mode="extract")
    assert extracted.answer.startswith("Total current assets (2022 to 2023): growth(") and extracted.calculations
    assert gen.calls == []
    # a question naming no document the collection holds gets nothing from the tables
    assert ask(balance_kb(None), ScriptedGenerator("Not found in the documents."), question).refused
