"""Prompts: numbered sources with document and page, the question last, citations as [n]."""

import re

from rag.answering.extract import question_relevant_part
from rag.answering.markers import strip_marks
from rag.answering.steering import quoted
from rag.core.types import Hit

SYSTEM = (
    "You are a careful assistant that answers questions from documents. "
    "Use only the facts in the numbered sources. "
    "Answer in one or two short sentences. End every sentence with the number of the source it "
    "comes from in square brackets, for example [1] or [3]. "
    "Copy names and numbers exactly as the sources write them. "
    "To compute, write the arithmetic with each number's [n], then = and the result. "
    "If none of the sources answers the question, reply only: Not found in the documents."
)

NOT_FOUND = "Not found in the documents."

# Worked exchanges: small models follow an example far better than a rule. The second shows the calculation form
# (rag.answering.calculations): each number with its source, then "=" and the result, which the service computes.
EXAMPLE = [
    {
        "role": "user",
        "content": "Source [1] (memo.pdf, page 3):\nThe Oslo office moved to Bjorvika in March 2019.\n\n"
        "Source [2] (memo.pdf, page 1):\nStaff numbers grew to 240 in 2020.\n\n"
        "Question: When did the Oslo office move?",
    },
    {"role": "assistant", "content": "The Oslo office moved to Bjorvika in March 2019 [1]."},
    {
        "role": "user",
        "content": "Source [1] (plan.pdf, page 2):\nSales were 50 in 2021.\n\n"
        "Source [2] (plan.pdf, page 5):\nSales | 2022 | 60\n\nQuestion: How much did sales grow?",
    },
    {"role": "assistant", "content": "Sales grew 20.0%: (60 [2] - 50 [1]) / 50 [1] * 100 = 20.0%."},
    {
        "role": "user",
        "content": "Source [1] (memo.pdf, page 3):\nThe Oslo office moved to Bjorvika in March 2019.\n\n"
        "Question: Who is the CEO?",
    },
    {"role": "assistant", "content": NOT_FOUND},
]


def source_block(n: int, hit: Hit, text: str | None = None) -> str:
    """`Source [n] (3M Company · 10-K · FY2018: 3M_2018_10K.pdf, page 3):` then the text; the document's label
    (from its profile) tells the model whose numbers and which period a source holds."""
    label = f"{hit.context}: {hit.doc}" if hit.context else hit.doc
    body = (hit.text if text is None else text).strip()
    return f"Source [{n}] ({label}, page {hit.page}):\n{quoted(body) if hit.addresses_model else body}"


def compact_html(html: str) -> str:
    """Layout HTML without coordinates and spacing: what a model needs of a table's structure."""
    html = re.sub(r'\s(data-[\w-]+|class)="[^"]*"', "", html)
    return re.sub(r">\s+<", "><", html).strip()


def source_text(hit: Hit, question: str, source_words: int = 0, tables: str = "rows") -> str:
    """What the model reads of a source: its text cut to the best lines, or (tables="html") a table chunk as
    compact HTML with its thead and spans."""
    if tables == "html" and "<table" in hit.html:
        return compact_html(hit.html)
    return question_relevant_part(hit.text, question, source_words)


def build_messages(question: str, hits: list[Hit], source_words: int = 0, tables: str = "rows") -> list[dict]:
    """Chat messages: the rules, then the sources numbered from 1, then the question.

    `source_words > 0` cuts each source to its lines that best match the question (rag.answering.extract.focus);
    `tables` is how a table chunk is given: "rows" (its text, one row a line, cells split by " | ") or "html".
    """
    sources = "\n\n".join(source_block(i, h, source_text(h, question, source_words, tables)) for i, h in enumerate(hits, 1))
    user = f"{sources}\n\nQuestion: {question.strip()}"
    return [{"role": "system", "content": SYSTEM}, *EXAMPLE, {"role": "user", "content": user}]


SUMMARY_SYSTEM = (
    "You summarise quotes from documents. Use only the words and numbers of the numbered quotes. "
    "Write one or two short sentences that answer the question, each ending with the quote number in "
    "square brackets, for example [1]. Add nothing that the quotes do not say. "
    "If the quotes do not answer the question, reply only: Not found in the documents."
)

RETRY = (
    "Some of that answer is not written in the sources. Answer again using only facts the sources state, "
    "copying names and numbers exactly, with the source number after every sentence; if the sources do not "
    "answer the question, reply only: Not found in the documents."
)


def summary_messages(question: str, quotes: list[tuple[int, str]]) -> list[dict]:
    """Messages asking for a summary of verbatim quotes, numbered as their sources are."""
    body = "\n".join(f"[{n}] {text}" for n, text in quotes)
    return [
        {"role": "system", "content": SUMMARY_SYSTEM},
        {"role": "user", "content": f"Quotes:\n{body}\n\nQuestion: {question.strip()}"},
    ]


REFUSAL_STARTS = ("not found", "the documents do not", "the sources do not", "no documents have been ingested")


def is_refusal(text: str) -> bool:
    """True when an answer (or a model's draft) says the sources do not answer: it starts so, or it is short and
    says "not found in the documents" (a model may add words around the phrase). Citation markers are ignored. The
    service decides with it, and the evaluator scores with it, so the two cannot disagree."""
    t = " ".join(strip_marks(text).lower().split())
    if t.startswith(REFUSAL_STARTS) or t.strip(". ") == "":
        return True
    return "not found in the documents" in t and len(t) < 160
