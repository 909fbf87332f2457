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


def test_graded_relevance_pages_as_tuples_and_the_cut_at_k():
    # graded: a grade-2 hit at rank 2 and a grade-1 hit at rank 1, against the ideal order 2, 1
    got = ndcg_at_k(["a", "b"], {"a": 1, "b": 2})
    assert math.isclose(got, (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)), rel_tol=1e-4)
    pages = [("10k.pdf", 7), ("10k.pdf", 3)]
    assert recall_at_k(pages, {("10k.pdf", 3): 1}, 1) == 0.0 and recall_at_k(pages, {("10k.pdf", 3): 1}, 5) == 1.0
    assert mrr_at_k(["x", "y", "a"], {"a": 1}, k=2) == 0.0  # past the cut
    assert mrr_at_k(["x", "x", "a"], {"a": 1}) == 0.5  # repeated ids count once
    assert recall_at_k(["a"], {"a": 0}, 5) == 0.0  # nothing relevant: 0, not an error
