"""Seconds spent in each parsing stage, summed per process: what `rag parse --profile` and bench/parse_speed.py show.

A stage is timed with `with stage("layout model"):`; `take()` returns the totals gathered since the last call and
starts again (parse processes return theirs with their pages, so a parse over several processes adds them up).
The cost is two clock reads per stage, so it is always on.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

_seconds: dict[str, float] = {}
_calls: dict[str, int] = {}


@contextmanager
def stage(name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _seconds[name] = _seconds.get(name, 0.0) + time.perf_counter() - t0
        _calls[name] = _calls.get(name, 0) + 1


def take() -> dict[str, tuple[float, int]]:
    """{stage: (seconds, calls)} since the last `take()`, in the order the stages first ran; then zero."""
    out = {name: (_seconds[name], _calls[name]) for name in _seconds}
    _seconds.clear()
    _calls.clear()
    return out


def add(total: dict[str, tuple[float, int]], more: dict[str, tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """`total` with `more` added to it (in place; returned)."""
    for name, (seconds, calls) in more.items():
        s, c = total.get(name, (0.0, 0))
        total[name] = (s + seconds, c + calls)
    return total
