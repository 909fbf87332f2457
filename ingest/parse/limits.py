"""What parsing one file may cost: its pages, the pixels of one page image, its seconds; and the caller's stop.

A file over a limit fails with the limit's name in its one-line reason (`ParseLimit`, 422); a caller that goes away
(a cancelled job, a closed `/v1/parse` connection) stops the parse between pages (`Cancelled`).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from rag.core.errors import Cancelled, ParseLimit
from rag.core.settings import ParseSettings

Stop = Callable[[], bool]  # True once the caller no longer wants the result


@dataclass(frozen=True)
class ParseLimits:
    max_pages: int = 2000
    seconds: float = 0.0  # time budget of one file; 0: none
    max_pixels: int = 40_000_000
    deadline: float = 0.0  # wall-clock time (time.time()) the budget runs out; 0: not started or no budget

    @classmethod
    def of(cls, parse: ParseSettings) -> "ParseLimits":
        return cls(parse.max_pages, parse.file_timeout_s, parse.max_render_pixels)

    def started(self) -> "ParseLimits":
        """These limits with the time budget counting from now (wall clock, so parse processes share it)."""
        return replace(self, deadline=time.time() + self.seconds) if self.seconds > 0 else self

    def check_pages(self, pages: int, name: str) -> None:
        if pages > self.max_pages:
            raise ParseLimit(f"{name} has {pages} pages, more than the {self.max_pages} allowed (RAG_PARSE__MAX_PAGES)")

    def check_time(self, name: str, page: int, stop: Stop | None = None) -> None:
        """Between pages: `Cancelled` if the caller stopped, `ParseLimit` once the time budget is spent."""
        if stop is not None and stop():
            raise Cancelled(f"parsing {name} was stopped at page {page}: its caller went away or cancelled")
        if self.deadline and time.time() > self.deadline:
            raise ParseLimit(
                f"parsing {name} took longer than {self.seconds:g} s and was stopped at page {page} (RAG_PARSE__FILE_TIMEOUT_S)"
            )

    def render_scale(self, width: float, height: float, scale: float) -> float:
        """`scale` (pixels per point), lowered so that a `width` x `height` page renders to at most `max_pixels`."""
        pixels = width * height * scale * scale
        return scale if pixels <= self.max_pixels else math.sqrt(self.max_pixels / max(width * height, 1e-9))

    def check_image(self, width: int, height: int, name: str) -> None:
        if width * height > self.max_pixels:
            raise ParseLimit(
                f"{name} is {width}x{height} pixels, more than the {self.max_pixels} allowed (RAG_PARSE__MAX_RENDER_PIXELS)"
            )
