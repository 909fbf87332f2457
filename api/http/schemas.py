"""Request bodies of the REST API (responses reuse the core's types, so the CLI's --json matches)."""

from typing import Literal

from pydantic import BaseModel, Field

from rag.core.types import Filters


class QueryRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    collection: str | None = None
    filters: Filters | None = Field(
        default=None,
        description="documents (names or ids), a page range and document tags (all must match); applied before the top-k cut",
    )


class SearchRequest(QueryRequest):
    pass


class AskRequest(QueryRequest):
    mode: Literal["generate", "extract"] | None = Field(
        default=None, description="generate (default): a checked, cited answer; extract: verbatim quotes only"
    )
    summarize: bool = Field(default=False, description="extract mode: add a short summary written from the quotes")
    stream: bool = Field(default=False, description="stream server-sent events: token..., then answer (or error)")
