"""Lexical index seam: `search(query, k) -> [(id, score)]`, BM25 via bm25s, stored beside the FAISS index.

Text normalisation shared by documents and queries: Unicode NFKC, lower case, thousands separators removed
inside numbers ("4,310" and "4310" match) and numbers kept whole ("3.5", "2024", "7").
"""

import json
import logging
import re
import unicodedata
from pathlib import Path
from typing import Protocol

import numpy as np

THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0'](?=\d{3}(?!\d))")
TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have he her his i in into is it its of on or our she so such that the "
    "their them then there these they this to was we were what when where which who will with you your do does did "
    "how many much".split()
)


_STEMMER = None


def _stem(words: list[str]) -> list[str]:
    global _STEMMER  # one Snowball stemmer per process; it is stateless
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER.stemWords(words)


def tokens(text: str) -> list[str]:
    """Normalised, stemmed terms of a text (documents and queries alike); numbers are never stemmed."""
    text = THOUSANDS.sub("", unicodedata.normalize("NFKC", text).lower())
    words = [t for t in TOKEN.findall(text) if t not in STOPWORDS]
    return [w if w[0].isdigit() else s for w, s in zip(words, _stem(words))]


class LexicalIndex(Protocol):
    """Lexical index seam: ids -> texts, searched by words."""

    @property
    def size(self) -> int: ...

    def search(self, query: str, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]: ...

    def save(self, folder: Path) -> None: ...


class Bm25Index:
    """BM25 (Lucene variant) over chunk texts, keyed by the same int64 ids as the vector index."""

    def __init__(self, model=None, ids: np.ndarray | None = None):
        self.model = model
        self.ids = ids if ids is not None else np.zeros(0, dtype=np.int64)
        self._order = np.argsort(self.ids, kind="stable")  # positions by id, to find allowed ids by binary search
        self._sorted_ids = self.ids[self._order]

    @property
    def size(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, ids: list[int], texts: list[str]) -> "Bm25Index":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG otherwise
        if not ids:
            return cls()
        model = bm25s.BM25()
        model.index([tokens(t) or ["\u2400"] for t in texts], show_progress=False)
        return cls(model, np.asarray(ids, dtype=np.int64))

    def search(self, query: str, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Top-k (id, score), best first; `allowed` restricts the ids scored (before the cut)."""
        terms = [t for t in tokens(query) if self.model is not None and t in self.model.vocab_dict]
        if not terms or self.size == 0 or k <= 0:
            return []
        if allowed is not None:
            return self._search_within(terms, k, allowed)
        k = min(k, self.size)
        docs, scores = self.model.retrieve([terms], k=k, show_progress=False, n_threads=1)
        return [(int(self.ids[d]), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def _search_within(self, terms: list[str], k: int, allowed: list[int]) -> list[tuple[int, float]]:
        """Top-k among `allowed` ids: every document's score from the postings of the query's terms (a sparse sum),
        then only the allowed ones ranked. Over a million chunks, 20x faster than a retrieval with a weight mask,
        which ranks every document (question routing searches a few documents' chunks on every query)."""
        want = np.asarray(allowed, dtype=np.int64)
        pos = np.searchsorted(self._sorted_ids, want)
        found = pos < self.size
        pos, want = pos[found], want[found]
        pos = self._order[pos[self._sorted_ids[pos] == want]]
        if not len(pos):
            return []
        scores = np.asarray(self.model.get_scores(terms), dtype=np.float32)[pos]
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[pos[i]]), float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        folder = Path(folder) / "bm25"
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self.ids)
        if self.model is not None:
            self.model.save(str(folder), show_progress=False)
        (folder / "meta.json").write_text(json.dumps({"count": self.size, "k1": 1.5, "b": 0.75, "method": "lucene"}))

    @classmethod
    def load(cls, folder: Path) -> "Bm25Index":
        import bm25s

        folder = Path(folder) / "bm25"
        if not (folder / "ids.npy").exists():
            return cls()
        ids = np.load(folder / "ids.npy")
        model = bm25s.BM25.load(str(folder), show_progress=False) if len(ids) else None
        return cls(model, ids)
