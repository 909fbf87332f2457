"""Terms a question uses that the pages holding the answer do not: a glossary of what each term is made of.

"Has AMCOR's quick ratio improved?" is answered from a balance sheet, which never writes "quick ratio": it writes
"Cash and cash equivalents", "Trade receivables" and "Total current liabilities". People ask in the words of their
trade (ratios, margins, "capital intensive", "PTO"), documents state the parts. When a question names a term of the
glossary, the search runs once more for what the term is made of (`means`), within the documents the question is
routed to (else the whole filter), and those candidates are fused as two more ranked lists
(rag.retrieval.knowledge_base), so the page that states the parts comes up without outranking the question's own
words.

The built-in glossary holds the standard definitions of the measures people ask of financial statements (margins,
turnover and liquidity ratios, capital intensity, free cash flow, EBITDA, effective tax rate, debt): they are the
same in every annual report, 10-K or budget. An organisation adds its own (`RAG_RETRIEVAL__GLOSSARY`: a JSON file,
a list of `{"terms": ["PTO", "paid time off"], "means": "annual leave vacation days"}`), which is read with the
built-in one, or alone when `RAG_RETRIEVAL__GLOSSARY_BUILT_IN` is off.

A term is named when its words (lower-cased, stemmed as BM25 stems them) stand together, in order, in the question.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import BadInput
from rag.retrieval.lexical import tokens

BALANCE_SHEET = "balance sheet statement of financial position"
INCOME_STATEMENT = "income statement statement of operations statement of earnings"
CASH_FLOWS = "statement of cash flows"

BUILT_IN: list[tuple[tuple[str, ...], str]] = [
    (
        ("gross margin", "gross profit margin"),
        f"gross profit revenue net sales cost of sales cost of goods sold {INCOME_STATEMENT}",
    ),
    (("operating margin", "operating profit margin", "ebit margin"), f"operating income revenue net sales {INCOME_STATEMENT}"),
    (("net profit margin", "net margin", "profit margin"), f"net income revenue net sales {INCOME_STATEMENT}"),
    (("ebitda",), f"operating income depreciation and amortization {CASH_FLOWS}"),
    (
        ("capital intensive", "capital intensity", "capex", "capital expenditure", "capital expenditures"),
        f"purchases of property plant and equipment capital expenditures total assets revenue {CASH_FLOWS}",
    ),
    (
        ("free cash flow", "fcf", "cash flow conversion", "cashflow conversion"),
        f"net cash provided by operating activities purchases of property and equipment {CASH_FLOWS}",
    ),
    (("fixed asset turnover", "ppe", "pp&e", "ppne"), f"property plant and equipment net revenue {BALANCE_SHEET}"),
    (("asset turnover", "return on assets", "roa"), f"total assets revenue net income {BALANCE_SHEET}"),
    (("return on equity", "roe"), f"net income total shareholders equity {BALANCE_SHEET}"),
    (
        ("quick ratio", "acid test ratio", "acid-test ratio"),
        f"cash and cash equivalents short-term investments accounts receivable total current liabilities {BALANCE_SHEET}",
    ),
    (
        ("current ratio", "working capital", "working capital ratio", "liquidity"),
        f"total current assets total current liabilities {BALANCE_SHEET}",
    ),
    (
        ("inventory turnover", "days inventory outstanding", "dio"),
        f"inventories cost of sales cost of goods sold {BALANCE_SHEET}",
    ),
    (("days payable outstanding", "dpo"), f"accounts payable cost of sales {BALANCE_SHEET}"),
    (("days sales outstanding", "dso"), f"accounts receivable revenue {BALANCE_SHEET}"),
    (
        ("cash conversion cycle", "ccc"),
        f"inventories accounts receivable accounts payable cost of sales revenue {BALANCE_SHEET}",
    ),
    (("effective tax rate",), f"provision for income taxes income before income taxes effective tax rate {INCOME_STATEMENT}"),
    (
        ("debt on balance sheet", "debt on its balance sheet", "total debt", "debt to equity", "leverage"),
        f"long-term debt short-term borrowings current portion of long-term debt total equity {BALANCE_SHEET}",
    ),
    (("interest coverage",), f"operating income interest expense {INCOME_STATEMENT}"),
    (("dividend payout", "payout ratio"), f"dividends paid net income {CASH_FLOWS}"),
]


@dataclass(frozen=True)
class Entry:
    terms: tuple[tuple[str, ...], ...]  # each term's stemmed words
    means: str


class Glossary:
    def __init__(self, entries: list[tuple[tuple[str, ...], str]]):
        self.entries = [Entry(tuple(t for term in terms if (t := tuple(tokens(term)))), means) for terms, means in entries]

    @classmethod
    def load(cls, path: Path | None, built_in: bool = True) -> "Glossary":
        """The built-in glossary (unless `built_in` is off) and the one in the JSON file at `path`."""
        entries = list(BUILT_IN) if built_in else []
        if path is not None:
            entries += read_glossary(path)
        return cls(entries)

    def expand(self, question: str) -> str:
        """What the terms the question names are made of, joined ("" when it names none)."""
        words = tokens(question)
        return " ".join(e.means for e in self.entries if any(_holds(words, t) for t in e.terms))


def _holds(words: list[str], term: tuple[str, ...]) -> bool:
    n = len(term)
    return bool(n) and any(tuple(words[i : i + n]) == term for i in range(len(words) - n + 1))


def read_glossary(path: Path) -> list[tuple[tuple[str, ...], str]]:
    """A glossary file: a JSON list of {"terms": [str, ...], "means": str}; a clear error for anything else."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"glossary {path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, list):
        raise BadInput(f'glossary {path}: expected a JSON list of {{"terms": [...], "means": "..."}}')
    out = []
    for i, item in enumerate(data):
        terms, means = (item.get("terms"), item.get("means")) if isinstance(item, dict) else (None, None)
        if not (isinstance(terms, list) and terms and all(isinstance(t, str) and t.strip() for t in terms)):
            raise BadInput(f"glossary {path}: entry {i} needs a non-empty list of terms")
        if not (isinstance(means, str) and means.strip()):
            raise BadInput(f"glossary {path}: entry {i} needs `means`, the words the documents use")
        out.append((tuple(terms), means))
    return out
