"""Fusing ranked lists (dense and lexical) and keeping the final top-k diverse.

Pure functions over (id, score) lists, so they are tested without any model.
"""

from collections.abc import Callable


def rrf(rankings: list[list[tuple[int, float]]], k: int = 60, weights: list[float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(id) = sum_i w_i / (k + rank_i(id)), ranks from 1; best first."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, (item, _) in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def weighted(rankings: list[list[tuple[int, float]]], weights: list[float] | None = None) -> list[tuple[int, float]]:
    """Weighted sum of min-max normalised scores (an item missing from a list scores 0 there); best first."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        if not ranking:
            continue
        scores = [s for _, s in ranking]
        lo, hi = min(scores), max(scores)
        for item, s in ranking:
            norm = (s - lo) / (hi - lo) if hi > lo else 1.0
            fused[item] = fused.get(item, 0.0) + w * norm
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def diversify(ranked: list[tuple[int, float]], key: Callable[[int], object], max_per_key: int, k: int) -> list[tuple[int, float]]:
    """The first k items, taking at most `max_per_key` per key (e.g. per page); 0 means no limit."""
    if max_per_key <= 0:
        return ranked[:k]
    seen: dict[object, int] = {}
    out = []
    for item, score in ranked:
        group = key(item)
        if seen.get(group, 0) >= max_per_key:
            continue
        seen[group] = seen.get(group, 0) + 1
        out.append((item, score))
        if len(out) == k:
            break
    return out
