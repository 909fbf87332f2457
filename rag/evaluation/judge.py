"""An optional LLM judge for answer evaluation: question, gold answer and answer in, "correct"/"incorrect" out.

The judge is any generator of the generator seam (`rag/generation/protocol.py`): the local answer model with its own
prompt, another manifest model, or an OpenAI-compatible endpoint. Its verdict is reported beside the
automatic score (`rag/evaluation/answer_scores.py`), never instead of it.
"""

from __future__ import annotations

import re

from rag.core.errors import BadInput
from rag.core.settings import GeneratorSettings
from rag.evaluation.answer_scores import strip_citations
from rag.generation.factory import make_generator
from rag.generation.protocol import Generator
from rag.models.registry import ModelRegistry

JUDGE_KINDS = ("none", "local", "openai")

JUDGE_SYSTEM = (
    "You grade answers to questions about documents. You are given a question, the reference answer and an "
    "answer to grade. The answer is correct when it states the same fact as the reference answer: wording may "
    "differ, numbers may be formatted differently or rounded (within 1%), extra detail is fine. It is incorrect "
    "when it gives a different fact, a different number, or says the information is not available. "
    "Reply with exactly one word: correct or incorrect."
)

_VERDICT = re.compile(r"\b(incorrect|not correct|wrong|correct|right)\b", re.IGNORECASE)


def judge_messages(question: str, gold: str, answer: str) -> list[dict]:
    """The chat messages asking for a verdict on one answer (citation markers removed from it)."""
    user = (
        f"Question: {question.strip()}\nReference answer: {gold.strip()}\n"
        f"Answer to grade: {' '.join(strip_citations(answer).split())}\nVerdict:"
    )
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(text: str) -> bool | None:
    """True for "correct", False for "incorrect" (or "wrong"); None when the reply says neither."""
    m = _VERDICT.search(text or "")
    if not m:
        return None
    return m.group(1).lower() in ("correct", "right")


class Judge:
    """Grades one answer with a generator; `verdict` returns (True/False/None, the raw reply)."""

    def __init__(self, generator: Generator, kind: str, max_tokens: int = 8):
        self.generator = generator
        self.kind = kind
        self.max_tokens = max_tokens

    def describe(self) -> dict:
        """Which judge graded the answers (kind and model reference), for the report."""
        return {"kind": self.kind, "model": self.generator.ref().model_dump()}

    def verdict(self, question: str, gold: str, answer: str) -> tuple[bool | None, str]:
        gen = self.generator.generate(judge_messages(question, gold, answer), max_tokens=self.max_tokens)
        return parse_verdict(gen.text), gen.text.strip()


def make_judge(
    kind: str,
    answer_generator: Generator,
    answer_settings: GeneratorSettings,
    registry: ModelRegistry,
    model: str | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
) -> Judge | None:
    """The judge asked for: None for "none"; "local" reuses the answer model unless `model` names another
    manifest model; "openai" builds an OpenAI-compatible generator for `endpoint` and `model`."""
    kind = (kind or "none").lower()
    if kind == "none":
        return None
    if kind == "local":
        if not model or model == answer_settings.model:
            return Judge(answer_generator, kind)
        settings = answer_settings.model_copy(update={"model": model, "lora_path": None})
        return Judge(make_generator(settings, registry), kind)
    if kind == "openai":
        if not endpoint or not model:
            raise BadInput("--judge openai needs --judge-endpoint and --judge-model")
        settings = GeneratorSettings(backend="openai", endpoint=endpoint, model=model, api_key=api_key)
        return Judge(make_generator(settings, registry), kind)
    raise BadInput(f"--judge takes {', '.join(JUDGE_KINDS)}, got {kind!r}")
