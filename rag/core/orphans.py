"""Process pools whose children die with their parent: a parent killed with -9 cannot stop its pools, so each child
watches the parent it was started by and leaves as soon as it is gone (it is then re-parented). Every process
pool of the service is made here (`rag ingest`'s parse processes, a long PDF's page-range processes)."""

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

POLL_S = 1.0


def process_pool(workers: int, initializer=None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """`workers` spawned processes, each running `initializer(*initargs)` first, each exiting with this process."""
    # spawn, not fork: this process may hold torch, ONNX Runtime or llama.cpp threads that a fork would copy mid-state
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_child,
        initargs=(os.getpid(), initializer, initargs),
    )


def _start_child(parent: int, initializer, initargs: tuple) -> None:
    exit_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def exit_with_parent(parent: int) -> None:
    """In a child process: exit at once (`os._exit`) when the process `parent` is no longer its parent."""
    threading.Thread(target=_watch, args=(parent,), name="exit-with-parent", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os._exit(1)
