"""Which skipped tests CI accepts: only those that need a GPU (no machine of CI's kind has one). Every other test
gets the program or package it needs from the test command, so a skip there means a missing install step."""

GPU_WORDS = ("gpu", "cuda")


def unexpected_skips(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (test id, reason) pairs of `skipped` that are not GPU tests."""
    return [(test, reason) for test, reason in skipped if not any(word in (test + " " + reason).lower() for word in GPU_WORDS)]
