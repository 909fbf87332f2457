"""The bulk ingest progress: rate over recent files, ETA, a bar redrawn in place on a terminal, lines otherwise."""

import io
import re

from api.cli.progress import Progress, Rate, duration
from ingest.pipeline import FileResult


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_durations_read_like_a_person_writes_them():
    assert [duration(s) for s in (None, 0, 42.4, 185, 3720)] == ["?", "0s", "42s", "3m05s", "1h02m"]


def test_rate_and_eta_follow_the_recent_files():
    clock = Clock()
    rate = Rate(total=200, window=10, clock=clock)
    assert rate.per_s() is None and rate.eta() is None
    for i in range(1, 101):  # 100 quick files (skipped): 100 a second
        clock.now += 0.01
        rate.add(i)
    assert round(rate.per_s()) == 100
    for i in range(101, 121):  # then slow ones (parsed): 2 a second; the window forgets the quick ones
        clock.now += 0.5
        rate.add(i)
    assert round(rate.per_s(), 3) == 2.0 and round(rate.eta()) == 40


def _result(name: str, status: str = "ok", reason: str = "", warnings=()) -> FileResult:
    return FileResult(f"/data/{name}", status, reason, pages=2, chunks=3, seconds=0.5, warnings=list(warnings))


def test_without_a_terminal_each_file_is_a_line_with_rate_and_eta():
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, out, tty=False, clock=clock)
    for i, r in enumerate(
        [
            _result("a.pdf"),
            _result("b.pdf", "failed", "corrupt PDF"),
            _result("c.pdf", warnings=["page 2: unreadable"]),
            _result("d.pdf", "skipped"),
        ],
        1,
    ):
        clock.now += 1.0
        progress(i, 4, r)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 5
    assert lines[0].startswith("[1/4] ok      /data/a.pdf  (2 pages, 3 chunks, 0.5s)  [1/4 files  1.0 files/s  ETA 3s]")
    assert "failed  /data/b.pdf  (corrupt PDF, 0.5s)" in lines[1] and "(1 failed)" in lines[1]
    assert lines[3] == "        warning: page 2: unreadable"
    assert lines[4].endswith("[4/4 files  1.0 files/s  done in 4s  (1 unchanged, 1 failed)]")


def _shown(text: str) -> str:
    """The text without terminal control sequences (colours, cursor moves, line clears)."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_on_a_terminal_one_bar_is_redrawn_and_failures_are_kept_above_it():
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, out, tty=True, clock=clock, every_s=0.2)
    progress(1, 100, _result("a.pdf"))
    clock.now += 0.05
    progress(2, 100, _result("b.pdf"))  # too soon after the last draw: not redrawn
    assert "2/100 files" not in out.getvalue() and "1/100 files" in out.getvalue()
    clock.now += 0.05
    progress(3, 100, _result("c.pdf", "failed", "encrypted PDF (password required): c.pdf"))
    text = out.getvalue()
    failed = text.index("FAILED /data/c.pdf: encrypted PDF (password required): c.pdf")
    assert text.index("3/100 files  30.0 files/s  ETA 3s  (1 failed)", failed) > failed  # the bar, below the note
    assert "\x1b[" in text  # redrawn in place with terminal control sequences
    progress.close()  # stopped early (--fail-fast): the bar's line is ended
    assert _shown(out.getvalue()).endswith("\n")


def test_on_a_terminal_the_last_file_finishes_the_bar():
    out, clock = io.StringIO(), Clock()
    progress = Progress(0, out, tty=True, clock=clock)
    for i in (1, 2):
        clock.now += 1.0
        progress(i, 2, _result(f"{i}.pdf", "skipped"))
    assert "2/2 files  1.0 files/s  done in 2s  (2 unchanged)\n" in _shown(out.getvalue())
    before = out.getvalue()
    progress.close()  # nothing more is written
    assert out.getvalue() == before
