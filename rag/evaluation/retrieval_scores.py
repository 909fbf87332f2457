"""Retrieval metrics over one ranked list of ids, computed by trec_eval (pytrec_eval), as BEIR computes them.

Ids may be any hashable (a page is `(document, page)`); they are compared by `str()`. The ranked list is cut at
`k` before scoring, so MRR@k counts a hit only in the first `k`. trec_eval is the reference implementation these
numbers are compared with in papers (graded gains, log2 discount, relevance level 1), so nothing here is
hand-written but the adaptation from a ranked list to trec_eval's scored run.
"""

from collections.abc import Hashable, Sequence

import pytrec_eval

QUERY = "q"


def _measure(ranked: Sequence[Hashable], relevant: dict, k: int, measure: str, key: str) -> float:
    qrel = {QUERY: {str(doc): int(grade) for doc, grade in relevant.items()}}
    if not any(g > 0 for g in qrel[QUERY].values()):
        return 0.0
    top = list(dict.fromkeys(str(doc) for doc in ranked))[:k]  # trec_eval needs distinct ids
    run = {QUERY: {doc: float(len(top) - i) for i, doc in enumerate(top)}}  # higher score = earlier
    if not top:
        return 0.0
    return float(pytrec_eval.RelevanceEvaluator(qrel, {measure}).evaluate(run)[QUERY][key])


def ndcg_at_k(ranked: Sequence[Hashable], relevant: dict, k: int = 10) -> float:
    """nDCG@k with gains = relevance grades (trec_eval `ndcg_cut`: linear gain, log2 discount)."""
    return _measure(ranked, relevant, k, f"ndcg_cut.{k}", f"ndcg_cut_{k}")


def recall_at_k(ranked: Sequence[Hashable], relevant: dict, k: int) -> float:
    """Share of the relevant ids (grade > 0) in the first k."""
    return _measure(ranked, relevant, k, f"recall.{k}", f"recall_{k}")


def mrr_at_k(ranked: Sequence[Hashable], relevant: dict, k: int = 10) -> float:
    """1 / rank of the first relevant id within the first k, else 0."""
    return _measure(ranked, relevant, k, "recip_rank", "recip_rank")


def mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
