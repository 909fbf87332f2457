import math

from rag.evaluation.retrieval_scores import mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_perfect_and_shifted():
    assert ndcg_at_k(["a", "b"], {"a": 1}) == 1.0
    assert math.isclose(ndcg_at_k(["x", "a"], {"a": 1}), 1 / math.log2(3))
    assert ndcg_at_k(["x"], {}) == 0.0


def test_recall_and_mrr():
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}, 2) == 1 / 3
    assert mrr_at_k(["x", "y", "a"], {"a": 1}) == 1 / 3
    assert mrr_at_k(["x"], {"a": 1}) == 0.0
