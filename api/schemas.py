"""Request bodies of the REST API (responses reuse the core's types, so the CLI's --json matches)."""

from pydantic import BaseModel, Field

from rag.types import Filters


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    collection: str | None = None
    filters: Filters | None = Field(default=None, description="documents (names or ids), a page range and document tags "
                                                                "(all must match); applied before the top-k cut")


class SearchRequest(AskRequest):
    pass
