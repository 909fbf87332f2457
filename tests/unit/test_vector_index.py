import numpy as np

from rag.vector_index import FaissIndex, IndexVersions


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
