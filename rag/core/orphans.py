"""Child processes that die with their parent: a parent killed with -9 cannot stop its pools, so each child of a
pool watches the parent it was started by and leaves as soon as it is gone (it is then re-parented)."""

import os
import threading
import time

POLL_S = 1.0


def exit_with_parent(parent: int) -> None:
    """In a child process: exit at once (`os._exit`) when the process `parent` is no longer its parent."""
    threading.Thread(target=_watch, args=(parent,), name="exit-with-parent", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os._exit(1)
