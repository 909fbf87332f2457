from rag.retrieval.fusion import diversify, rrf, weighted


def test_rrf_rewards_items_ranked_well_by_both():
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 12.0), (1, 9.0), (4, 1.0)]
    fused = rrf([dense, lexical], k=60)
    assert [i for i, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == 1 / 61 + 1 / 62


def test_rrf_weights_and_ties_are_deterministic():
    assert [i for i, _ in rrf([[(1, 1)], [(2, 1)]], weights=[1.0, 2.0])] == [2, 1]
    assert [i for i, _ in rrf([[(5, 1)], [(4, 1)]])] == [4, 5]  # equal scores: lower id first


def test_weighted_fusion_normalises_each_list():
    fused = weighted([[(1, 0.9), (2, 0.5)], [(2, 30.0), (3, 10.0)]], weights=[1.0, 2.0])
    assert fused[0] == (2, 2.0) and dict(fused)[1] == 1.0 and dict(fused)[3] == 0.0


def test_diversify_caps_items_per_page():
    ranked = [(1, 9), (2, 8), (3, 7), (4, 6), (5, 5)]
    page = {1: "a", 2: "a", 3: "a", 4: "b", 5: "c"}
    assert [i for i, _ in diversify(ranked, page.get, 2, 4)] == [1, 2, 4, 5]
    assert [i for i, _ in diversify(ranked, page.get, 0, 3)] == [1, 2, 3]


def test_embedder_identity_mismatch_reasons():
    from rag.retrieval.knowledge_base import identity_mismatch

    current = {"name": "m", "sha256": "abc", "backend": "onnx"}
    assert identity_mismatch(None, current) is None
    assert identity_mismatch(dict(current), current) is None
    assert "backend 'torch' in the index" in identity_mismatch({"name": "m", "sha256": "abc"}, current)  # old manifest
    assert "sha256" in identity_mismatch({"name": "m", "sha256": "def", "backend": "onnx"}, current)
    assert "name" in identity_mismatch({"name": "other", "sha256": "abc", "backend": "onnx"}, current)


def test_bm25_search_within_allowed_ids_ranks_as_the_whole_ranking_filtered():
    import random

    from rag.retrieval.lexical import Bm25Index

    rng = random.Random(0)
    words = ["harbour", "crane", "lock", "ferry", "storm", "gate", "pier", "tide", "steel", "budget", "audit", "crew"]
    ids = rng.sample(range(10_000, 99_999), 400)  # not in order: found by binary search all the same
    index = Bm25Index.build(ids, [" ".join(rng.choices(words, k=12)) for _ in ids])
    allowed = rng.sample(ids, 60) + [5, 7]  # two ids the index does not hold
    for query in ("harbour crane", "storm gate tide", "audit"):
        everything = index.search(query, len(ids))
        expected = [(i, round(s, 4)) for i, s in everything if i in set(allowed)][:10]
        got = [(i, round(s, 4)) for i, s in index.search(query, 10, allowed)]
        assert [s for _, s in got] == [s for _, s in expected] and {i for i, _ in got} <= set(allowed)
        assert set(got) == set(expected) or len({s for _, s in expected}) < len(expected)  # ties may order apart
    assert index.search("harbour", 5, [1, 2, 3]) == [] and index.search("unknownword", 5, allowed) == []
