"""Progress of a bulk ingest on stderr: files/s and ETA, as a bar redrawn in place on a terminal, else plain lines.

The rate is over the last `WINDOW` files (skipped files are quick, parsed ones slow: a recent rate gives a better
ETA after a resumed run has skipped its first part); rich's own estimate is not used because it averages over a
fixed time span. rich draws the bar and keeps failures and page warnings printed above it; without a terminal each
file is one plain line (logs and CI).
"""

import time
from collections import deque

WINDOW = 50  # files the rate is measured over
BAR = 24  # characters of the bar


def duration(seconds: float | None) -> str:
    """`1h02m`, `3m05s`, `42s`; `?` when unknown."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class Rate:
    """Items per second over the last `window` items, and the time left for the rest."""

    def __init__(self, total: int, window: int = WINDOW, clock=time.monotonic):
        self.total, self.clock = total, clock
        self.start = clock()
        self.times: deque[tuple[int, float]] = deque([(0, self.start)], maxlen=window + 1)

    def add(self, done: int) -> None:
        self.times.append((done, self.clock()))

    def per_s(self) -> float | None:
        (n0, t0), (n1, t1) = self.times[0], self.times[-1]
        return (n1 - n0) / (t1 - t0) if n1 > n0 and t1 > t0 else None

    def eta(self) -> float | None:
        rate = self.per_s()
        return (self.total - self.times[-1][0]) / rate if rate else None

    def elapsed(self) -> float:
        return self.clock() - self.start


class Progress:
    """Called once per finished file: `progress(i, n, result)` with an ingest `FileResult`."""

    def __init__(self, total: int, stream, tty: bool | None = None, clock=time.monotonic, every_s: float = 0.2):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.rate = Rate(total, clock=clock)
        self.clock, self.every_s = clock, every_s
        self.total, self.failed, self.skipped = total, 0, 0
        self._drawn: float | None = None  # when the bar was last drawn (tty)
        self._rich = None  # rich.progress.Progress, on a terminal once the first file is done
        self._task = None
        self.done = 0

    def __call__(self, i: int, n: int, r) -> None:
        self.rate.total, self.done = n, i
        self.rate.add(i)
        self.failed += r.status == "failed"
        self.skipped += r.status == "skipped"
        if self.tty:
            self._tty_line(i, n, r)
        else:
            self._plain_line(i, n, r)

    def status(self, i: int, n: int) -> str:
        """`120/5000 files  24.6 files/s  ETA 3m18s  (2 failed)`."""
        rate = self.rate.per_s()
        speed = f"{rate:.1f} files/s" if rate is not None else "- files/s"
        eta = "done in " + duration(self.rate.elapsed()) if i >= n else "ETA " + duration(self.rate.eta())
        extra = ", ".join(
            x for x in (f"{self.skipped} unchanged" if self.skipped else "", f"{self.failed} failed" if self.failed else "") if x
        )
        return f"{i}/{n} files  {speed}  {eta}" + (f"  ({extra})" if extra else "")

    def _plain_line(self, i: int, n: int, r) -> None:
        from ingest.pipeline import relative

        detail = f"{r.pages} pages, {r.chunks} chunks" if r.status != "failed" else r.reason
        self.stream.write(f"[{i}/{n}] {r.status:7s} {relative(r.path)}  ({detail}, {r.seconds:.1f}s)  [{self.status(i, n)}]\n")
        for warning in r.warnings:
            self.stream.write(f"        warning: {warning}\n")
        self.stream.flush()

    def _tty_line(self, i: int, n: int, r) -> None:
        from ingest.pipeline import relative

        notes = ([f"FAILED {relative(r.path)}: {r.reason}"] if r.status == "failed" else []) + [
            f"warning: {relative(r.path)}: {w}" for w in r.warnings
        ]
        bar = self._bar()
        for note in notes:
            bar.console.print(note, markup=False, highlight=False, soft_wrap=True)
        bar.update(self._task, completed=i, total=n or 1, status=self.status(i, n))
        now = self.clock()
        if notes or i >= n or self._drawn is None or now - self._drawn >= self.every_s:
            self._drawn = now
            bar.refresh()
        if i >= n:
            bar.stop()

    def _bar(self):
        """The rich bar, started on first use; redrawn only when `_tty_line` says so (no refresh thread)."""
        if self._rich is None:
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn
            from rich.progress import Progress as Bar

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._rich = Bar(BarColumn(bar_width=BAR), TextColumn("{task.fields[status]}"), console=console, auto_refresh=False)
            self._task = self._rich.add_task("ingest", total=self.rate.total or 1, status="")
            self._rich.start()
        return self._rich

    def close(self) -> None:
        """End the bar's line when the run stopped early (--fail-fast, Ctrl-C)."""
        if self._rich is not None and not self._rich.finished:
            self._rich.stop()
