"""Every process pool dies with its parent (issue 19, item 2): a parent killed with -9 (a worker, `rag ingest`)
leaves no parse process behind, busy or idle."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PARENT = textwrap.dedent(
    """
    import os, sys, time
    from rag.core.orphans import process_pool

    pool = process_pool(2)
    list(pool.map(abs, range(4)))  # both processes started
    busy = pool.submit(time.sleep, 600)  # one of them busy, as a parse would be
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its new parent to reap it."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, StopIteration):
        return False
    return "Z" not in state.split()[1]


def test_pool_processes_exit_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2 and all(_alive(pid) for pid in children)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 60  # a generous bound for a loaded machine; they go within about a second
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in children), "orphaned pool processes"
    finally:
        if parent.poll() is None:
            parent.kill()
