"""A generator that crashes natively on demand (SIGSEGV, as a llama.cpp build faulting on this CPU does), for the
isolation tests; built in the child process by `build`."""

import os
import signal
import time

from rag.core.types import ModelRef
from rag.generation.protocol import Generation


class CrashingGenerator:
    """Echoes the question word by word; "crash" in it kills its own process with SIGSEGV; "slow" writes 500
    pieces a few milliseconds apart (a long answer to stop)."""

    name = "crashing"

    def warm_up(self) -> None:
        pass

    def ref(self) -> ModelRef:
        return ModelRef(name=self.name, backend="test")

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, messages, max_tokens=256, stop=None, on_token=None) -> Generation:
        question = messages[-1]["content"]
        if "crash" in question:
            os.kill(os.getpid(), signal.SIGSEGV)
        words = ["word"] * 500 if "slow" in question else question.split()
        for w in words:
            if "slow" in question:
                time.sleep(0.005)
            if on_token is not None:
                on_token(w + " ")
        text = " ".join(words)
        return Generation(text, 10, len(words), 1.0, 1.0, 2.0)


def build() -> CrashingGenerator:
    return CrashingGenerator()
