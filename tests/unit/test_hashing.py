import os

from rag.core.hashing import HashCache, sha256_file, sha256_tree


def test_file_and_tree_hashes(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    assert sha256_file(tmp_path / "a.bin") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    before = sha256_tree(tmp_path)
    (tmp_path / "b.bin").write_bytes(b"x")
    assert sha256_tree(tmp_path) != before


def test_cache_reuses_hash_until_size_or_mtime_changes(tmp_path, monkeypatch):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"weights-v1")
    cache = HashCache(tmp_path / "cache.json")
    first = cache.sha256(f)
    calls = []
    import rag.core.hashing as h

    real = h.sha256_tree
    monkeypatch.setattr(h, "sha256_tree", lambda p: calls.append(p) or real(p))
    assert cache.sha256(f) == first and calls == []  # cached: not re-hashed
    f.write_bytes(b"weights-v2!")
    os.utime(f, ns=(1, 1))
    assert cache.sha256(f) != first and len(calls) == 1
