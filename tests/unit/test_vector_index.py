import numpy as np

from rag.retrieval.vector_index import FaissIndex, IndexVersions


def unit_rows(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_add_search_remove_with_stable_ids():
    index = FaissIndex(8, use_gpu="never")
    vecs = unit_rows(5)
    index.add([10, 11, 12, 13, 14], vecs)
    assert index.search(vecs[2], 1)[0][0] == 12
    assert index.remove([12]) == 1
    assert 12 not in [i for i, _ in index.search(vecs[2], 5)]
    assert sorted(index.ids().tolist()) == [10, 11, 13, 14]


def test_allowed_ids_filter_before_the_cut():
    index = FaissIndex(8, use_gpu="never")
    vecs = unit_rows(50)
    index.add(list(range(50)), vecs)
    hits = index.search(vecs[0], 3, allowed=[40, 41])
    assert sorted(i for i, _ in hits) == [40, 41]
    assert index.search(vecs[0], 3, allowed=[]) == []


def test_versions_publish_atomically_and_prune(tmp_path):
    versions = IndexVersions(tmp_path, keep=2)
    assert versions.current() is None
    index = FaissIndex(8, use_gpu="never")
    for i in range(4):
        index.add([i], unit_rows(1, seed=i))
        folder = versions.publish(index, {"embedder": {"name": "e"}})
    assert versions.current() == folder
    assert versions.manifest()["count"] == 4
    assert len(list((tmp_path / "indexes").iterdir())) == 2
    loaded = FaissIndex.load(folder, use_gpu="never")
    assert sorted(loaded.ids().tolist()) == [0, 1, 2, 3]


def test_dangling_pointer_means_no_index(tmp_path):
    (tmp_path / "current").write_text("does-not-exist")
    assert IndexVersions(tmp_path).current() is None


def test_approximate_indexes_agree_with_exact_search_and_survive_a_reload(tmp_path):
    from rag.retrieval.vector_index import choose_kind

    vecs = unit_rows(3000, dim=32, seed=1)
    exact = FaissIndex(32, use_gpu="never")
    exact.add(list(range(3000)), vecs)
    queries = unit_rows(20, dim=32, seed=2)
    truth = [{i for i, _ in exact.search(q, 10)} for q in queries]
    for kind in ("hnsw", "ivfpq"):
        index = FaissIndex(32, use_gpu="never")
        index.add(list(range(3000)), vecs)
        meta = index.build_ann(kind, ef_search=128, nprobe=32)
        assert meta["kind"] == kind and index.ann is not None
        recall = sum(len(t & {i for i, _ in index.search(q, 10)}) for q, t in zip(queries, truth)) / 200
        assert recall >= (0.95 if kind == "hnsw" else 0.5), (kind, recall)
        IndexVersions(tmp_path / kind).publish(index, {})
        loaded = FaissIndex.load(IndexVersions(tmp_path / kind).current(), use_gpu="never")
        assert loaded.ann is not None and loaded.ann_meta["kind"] == kind
        assert loaded.search(queries[0], 10) == index.search(queries[0], 10)
        index.remove([0])  # any change drops the approximate index until the next publication
        assert index.ann is None
    assert choose_kind("auto", 10, 100_000) == "flat"
    assert choose_kind("auto", 150_000, 100_000) == "ivfpq"
    assert choose_kind("hnsw", 10, 100_000) == "hnsw"


def test_gpu_search_matches_cpu():
    import pytest

    from rag.retrieval.vector_index import gpu_available

    if not gpu_available():
        pytest.skip("no GPU: faiss has no GPU support here or sees no device")
    vecs = unit_rows(2000, dim=64)
    gpu, cpu = FaissIndex(64, use_gpu="always"), FaissIndex(64, use_gpu="never")
    for index in (gpu, cpu):
        index.add(list(range(2000)), vecs)
    assert [i for i, _ in gpu.search(vecs[5], 10)] == [i for i, _ in cpu.search(vecs[5], 10)]
    assert gpu.device == "cuda:0"


def test_search_threads_apply_to_the_querying_thread_only():
    import threading

    import faiss

    before = faiss.omp_get_max_threads()
    index = FaissIndex(8, use_gpu="never", search_threads=1)
    index.add(list(range(20)), unit_rows(20))
    seen = []

    def query():
        index.search(unit_rows(1, seed=3)[0], 5)
        seen.append(faiss.omp_get_max_threads())

    t = threading.Thread(target=query)
    t.start()
    t.join()
    assert seen == [1]
    assert faiss.omp_get_max_threads() == before  # the thread that builds indexes keeps every core


def test_an_unknown_index_kind_is_bad_input():
    import pytest

    from rag.core.errors import BadInput

    index = FaissIndex(8, use_gpu="never")
    index.add(list(range(5)), unit_rows(5))
    with pytest.raises(BadInput, match="unknown index kind 'hsnw'"):
        index.build_ann("hsnw")
