"""Serving under load: a bounded number of generations at once, a bounded queue, cancellation, deadlines.

`Gate` admits a request at once or refuses it (`Busy`, HTTP 503 with Retry-After) when its slots and its
queue are full; an admitted request then waits for a slot, up to a time limit. `Ticket.on_token` is the
hook handed to the generator: it raises `Cancelled` once the caller went away and `TimedOut` once the
request's deadline passed, which stops the generation and frees the slot.
"""

import threading
import time
from collections.abc import Callable

from rag.core.errors import Busy, Cancelled, TimedOut


class Ticket:
    """One admitted request: waits for a slot, carries its cancel flag and deadline, frees what it holds."""

    def __init__(self, gate: "Gate", timeout_s: float):
        self.gate = gate
        self.cancelled = threading.Event()
        self.deadline = time.monotonic() + timeout_s
        self._holding = False
        self._done = False

    def cancel(self) -> None:
        self.cancelled.set()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("the client disconnected")
        if time.monotonic() > self.deadline:
            raise TimedOut("the request ran past its time limit")

    def wait(self) -> None:
        """Block until a slot is free; `Busy` if the queue wait runs out, `Cancelled` if the caller left."""
        until = time.monotonic() + self.gate.queue_timeout_s
        while not self.gate._slots.acquire(timeout=0.1):
            self.check()
            if time.monotonic() > until:
                self.release()
                raise Busy("waited too long for a free generation slot", self.gate.retry_after)
        self._holding = True

    def on_token(self, _piece: str) -> None:
        self.check()

    def chain(self, callback: Callable[[str], None] | None) -> Callable[[str], None]:
        """A token hook that checks this ticket, then passes the piece on."""

        def hook(piece: str) -> None:
            self.check()
            if callback is not None:
                callback(piece)

        return hook

    def release(self) -> None:
        with self.gate._lock:
            if self._done:
                return
            self._done = True
            self.gate._admitted -= 1
        if self._holding:
            self._holding = False
            self.gate._slots.release()

    def __enter__(self) -> "Ticket":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Gate:
    """At most `slots` requests run at once and `queue` more wait; beyond that, `Busy` at once."""

    def __init__(self, slots: int = 1, queue: int = 8, queue_timeout_s: float = 60.0, request_timeout_s: float = 120.0):
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.queue_timeout_s = queue_timeout_s
        self.request_timeout_s = request_timeout_s
        self._slots = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def retry_after(self) -> int:
        """Seconds a refused client should wait: a quarter of the longest queue wait."""
        return max(1, round(self.queue_timeout_s / 4))

    @property
    def waiting(self) -> int:
        with self._lock:
            return max(0, self._admitted - self.slots)

    @property
    def admitted(self) -> int:
        with self._lock:
            return self._admitted

    def admit(self, timeout_s: float | None = None) -> Ticket:
        """A ticket for a new request, or `Busy` when running + waiting requests are at the limit."""
        with self._lock:
            if self._admitted >= self.slots + self.queue:
                raise Busy(f"the service is busy: {self.slots} answering and {self.queue} waiting; retry later", self.retry_after)
            self._admitted += 1
        return Ticket(self, timeout_s or self.request_timeout_s)
