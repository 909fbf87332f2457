"""Citation markers in answer text: "[1]", "[1, 3]", "[source 2]". One pattern for the service, the grounding
check, fine-tuning filters and the evaluator."""

import re

MARK = re.compile(r"\[(?:sources?\s*)?(\d+(?:\s*[,;]\s*(?:sources?\s*)?\d+)*)\]", re.IGNORECASE)


def cited_numbers(text: str) -> list[int]:
    """The source numbers cited in `text`, in order ("[1, 3] ... [2]" gives [1, 3, 2])."""
    return [int(x) for m in MARK.finditer(text) for x in re.findall(r"\d+", m.group(1))]


def strip_marks(text: str) -> str:
    """`text` without its citation markers (each replaced by a space)."""
    return MARK.sub(" ", text or "")
