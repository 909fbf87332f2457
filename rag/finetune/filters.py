"""Filters for synthetic training examples: every kept answer is backed by the chunks it cites.

A candidate is a question, an answer whose sentences cite `[n]` (n = 1.. the number of its chunks), and
the texts of those chunks. `reject_reason` returns why a candidate must go (or None); `Deduper` drops
near-duplicate questions. The reasons are counted in the data card, so an operator sees what each filter
removed.
"""

import re
from collections import Counter
from dataclasses import dataclass

from rag.answering.citations import split_sentences
from rag.answering.grounding import number_found, numbers, support, written
from rag.answering.markers import MARK, cited_numbers
from rag.retrieval.lexical import tokens

REASONS = (
    "unparsable",
    "length",
    "vague_question",
    "answer_in_question",
    "uncited",
    "number_not_in_source",
    "answer_not_in_source",
    "duplicate",
    "answer_cut_from_prompt",
    "distractors_answer",
    "no_distractors",
)

VAGUE = re.compile(r"\b(passages?|the text|the table above|above|this document|mentioned)\b", re.IGNORECASE)


@dataclass
class Limits:
    question_words: tuple[int, int] = (4, 40)
    answer_words: tuple[int, int] = (1, 80)
    min_support: float = 0.6  # share of an answer sentence's new words its cited chunk must contain
    duplicate_overlap: float = 0.7  # word-set Jaccard of two questions above which the later one is dropped


def cited(sentence: str) -> list[int]:
    """The source numbers a sentence cites ("... [1][3]." -> [1, 3])."""
    return cited_numbers(sentence)


def strip_marks(text: str) -> str:
    """The answer without its `[n]` markers (the gold answer for scoring)."""
    return re.sub(r"\s+([.,;:!?])", r"\1", MARK.sub("", text)).strip()


def rare_terms(doc_texts: dict[str, str], share: float = 0.05) -> set[str]:
    """Terms written in at most max(2, share x documents) documents: what tells one document from the others
    (a company, a product, a person), as opposed to what many share ("leave", "safety", "Q1")."""
    df: Counter = Counter()
    for text in doc_texts.values():
        df.update(set(tokens(text)))
    limit = max(2, int(share * len(doc_texts)))
    return {t for t, n in df.items() if n <= limit}


def reject_reason(
    question: str,
    answer: str,
    chunks: list[str],
    limits: Limits = Limits(),
    titles: list[str] | None = None,
    rare: set[str] | None = None,
) -> str | None:
    """Why this question/answer pair must not be trained on, or None when every check passes.

    Checks, in order: lengths; the question names something only a few documents mention (given `rare`, see
    `rare_terms`), so it makes sense without seeing the passage; the answer adds something to the question;
    every sentence cites a chunk that exists; every number of the answer is written in a chunk that sentence
    cites (or in the question); the sentence's names and most of its new words are in that chunk
    (rag.answering.grounding, the same test the service applies to answers).
    """
    q_words, a_words = len(question.split()), len(strip_marks(answer).split())
    if not (limits.question_words[0] <= q_words <= limits.question_words[1]) or not (
        limits.answer_words[0] <= a_words <= limits.answer_words[1]
    ):
        return "length"
    if VAGUE.search(question) or (rare is not None and not rare.intersection(tokens(question))):
        return "vague_question"
    if not set(tokens(strip_marks(answer))) - set(tokens(question)):
        return "answer_in_question"
    sentences = [s for s in split_sentences(answer) if re.search(r"\w", MARK.sub("", s))]
    if not sentences:
        return "length"
    titles = titles or [""] * len(chunks)
    for sentence in sentences:
        refs = cited(sentence)
        if not refs or any(not 1 <= n <= len(chunks) for n in refs):
            return "uncited"
        sources = [chunks[n - 1] for n in refs]
        pool = numbers("\n".join(sources)) + numbers(question)
        claim = MARK.sub(" ", sentence)
        if any(not number_found(v, pool, d) for v, d in written(claim)):
            return "number_not_in_source"
        if not support(claim, sources, question, [titles[n - 1] for n in refs]).ok(limits.min_support):
            return "answer_not_in_source"
    return None


class Deduper:
    """Keeps a question unless one already kept about the same document has (nearly) the same words.

    The same question about two documents ("How many leave days does A give?" and "... B give?") is not a
    duplicate: both teach the model to answer from the right source.
    """

    def __init__(self, overlap: float = 0.7):
        self.overlap = overlap
        self.seen: dict[str, list[set[str]]] = {}

    def is_duplicate(self, question: str, doc: str = "") -> bool:
        words = set(tokens(question))
        for other in self.seen.get(doc, []):
            union = words | other
            if union and len(words & other) / len(union) >= self.overlap:
                return True
        return False

    def add(self, question: str, doc: str = "") -> bool:
        """Remember the question and return True, or return False when it duplicates one already kept."""
        if self.is_duplicate(question, doc):
            return False
        self.seen.setdefault(doc, []).append(set(tokens(question)))
        return True
