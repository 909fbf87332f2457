"""A local answer model in a process of its own, so that a native crash (a llama.cpp build faulting on this CPU, a
segfault in a kernel) costs the request it was serving, not the server: that request gets 503 with the reason, and
the next one starts the process again (loading the model again).

The child builds its generator with `build(*args)` (a module-level function, so it reaches the child by name),
exits with its parent, and serves one call at a time over a pipe: warm_up, count_tokens, generate, whose pieces come
back as they are written. A caller whose `on_token` raises (the client left, the time ran out) sends a stop that the
child reads between pieces, and its exception is raised at once (its generation slot is free again); the next call
first reads what the stopped one still sent.
"""

import logging
import multiprocessing
import os
import signal
import threading

from rag.core.errors import GeneratorError, GeneratorUnavailable, RagError
from rag.core.orphans import exit_with_parent
from rag.core.types import ModelRef
from rag.generation.protocol import Generation, Generator, OnToken

log = logging.getLogger(__name__)


class GeneratorCrashed(GeneratorUnavailable):
    """The answer model's process died while serving a call (503); it is started again for the next one."""


class _Stopped(Exception):
    """In the child: the caller asked to stop generating."""


class IsolatedGenerator:
    """The `Generator` protocol over a child process. `inner` is the same generator built here, never loaded: it
    gives the name and `ref()` (cheap: no weights)."""

    def __init__(self, inner: Generator, build, args: tuple):
        self.inner = inner
        self.name = inner.name
        self._build, self._args = build, args
        self._lock = threading.Lock()  # one call at a time over the pipe
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn = None
        self._stopped_call = False  # a call whose caller stopped: its last messages are still in the pipe

    def ref(self) -> ModelRef:
        return self.inner.ref()

    def warm_up(self) -> "IsolatedGenerator":
        self._call("warm_up")
        return self

    def count_tokens(self, text: str) -> int:
        return self._call("count_tokens", text)

    def generate(
        self, messages: list[dict], max_tokens: int, stop: list[str] | None = None, on_token: OnToken | None = None
    ) -> Generation:
        return self._call("generate", messages, max_tokens, stop, on_token=on_token)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._proc.kill()
                self._proc.join(5)
            self._proc = self._conn = None

    # ---- the pipe ------------------------------------------------------------------------------
    def _started(self):
        """The pipe to a running child, with nothing left in it of an earlier call."""
        if self._stopped_call and self._conn is not None:
            try:
                while self._conn.recv()[0] == "token":
                    pass
            except (EOFError, OSError):
                self._crashed()  # it died finishing the stopped call: a new one is started below
            self._stopped_call = False
        if self._proc is None or not self._proc.is_alive():
            context = multiprocessing.get_context("spawn")  # a fork would copy this process's threads mid-state
            ours, theirs = context.Pipe()
            self._proc = context.Process(
                target=_serve, args=(theirs, os.getpid(), self._build, self._args), name="answer-model", daemon=True
            )
            self._proc.start()
            theirs.close()
            self._conn = ours
        return self._conn

    def _call(self, op: str, *args, on_token: OnToken | None = None):
        with self._lock:
            conn = self._started()
            conn.send((op, args))
            while True:
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    raise self._crashed() from None
                if kind == "token":
                    if on_token is not None:
                        try:
                            on_token(value)
                        except BaseException:
                            conn.send(("stop", ()))
                            self._stopped_call = True  # the next call reads the rest first
                            raise
                    continue
                if kind == "error":
                    raise value
                return value

    def _crashed(self) -> GeneratorCrashed:
        proc, self._proc, self._conn, self._stopped_call = self._proc, None, None, False
        code = None
        if proc is not None:
            proc.join(5)
            code = proc.exitcode
        how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        log.error("the answer model's process died (%s); it is started again for the next request", how)
        return GeneratorCrashed(
            f"the answer model's process died ({how}) while answering; the service goes on and starts it again for the "
            "next request"
        )


def _serve(conn, parent: int, build, args: tuple) -> None:
    """The child: build the generator, then answer calls until the pipe closes."""
    exit_with_parent(parent)
    generator = build(*args)
    while True:
        try:
            op, call_args = conn.recv()
        except (EOFError, OSError):
            return
        if op == "stop":  # a stop that came after its call had ended
            continue
        try:
            if op == "generate":
                result = generator.generate(*call_args, on_token=_forward(conn))
            elif op == "warm_up":
                generator.warm_up()
                result = None
            else:
                result = generator.count_tokens(*call_args)
            conn.send(("done", result))
        except _Stopped:
            conn.send(("done", None))
        except RagError as exc:
            conn.send(("error", exc))
        except Exception as exc:  # noqa: BLE001 - sent to the caller as the backend's error
            conn.send(("error", GeneratorError(f"{type(exc).__name__}: {exc}")))


def _forward(conn) -> OnToken:
    def on_token(piece: str) -> None:
        while conn.poll():
            if conn.recv()[0] == "stop":
                raise _Stopped()
        conn.send(("token", piece))

    return on_token
