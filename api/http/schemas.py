"""Request bodies of the REST API (responses reuse the core's types, so the CLI's --json matches)."""

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from rag.core.types import Citation, Filters, ModelRef


def _lone_surrogate(value: Any) -> bool:
    """Whether a JSON value holds a string with a lone surrogate ("\\ud800"): valid JSON, but no text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogate(v) for v in value)
    return False


class Body(BaseModel):
    """A request body: every string in it must be text (no lone surrogates, which nothing downstream can store)."""

    @model_validator(mode="before")
    @classmethod
    def text_only(cls, data: Any) -> Any:
        if _lone_surrogate(data):
            raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff): not valid Unicode text")
        return data


class QueryRequest(Body):
    question: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    collection: str | None = Field(default=None, max_length=64)
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


class PathsRequest(Body):
    paths: list[str] = Field(
        min_length=1,
        max_length=10_000,
        description="files or folders on the server, each under one of the roots the admin allows (RAG_INGEST__ALLOWED_ROOTS)",
    )
    collection: str = Field(default="default", max_length=64)


class ConversationRequest(Body):
    collection: str | None = Field(
        default=None, max_length=64, description="the collection its questions search (default: all the key's)"
    )
    title: str = Field(default="", max_length=200, description="default: its first question, shortened")


class MessageRequest(Body):
    question: str = Field(min_length=1, max_length=2000, description="the follow-up as the user wrote it")
    k: int = Field(default=5, ge=1, le=50)
    filters: Filters | None = Field(default=None, description="as for /v1/ask, within the conversation's collection")
    mode: Literal["generate", "extract"] | None = Field(default=None, description="as for /v1/ask")
    stream: bool = Field(default=False, description="stream server-sent events: rewritten, token..., then message (or error)")


class RatedAnswer(BaseModel):
    """The parts of a /v1/ask answer that feedback keeps (send the answer as returned: the rest is ignored)."""

    answer: str = Field(max_length=20_000)
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list, max_length=100)
    model: ModelRef | None = None


class FeedbackRequest(Body):
    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=2000)
    conversation_id: str | None = Field(default=None, max_length=64, description="the conversation of the turn rated")
    message: int | None = Field(default=None, ge=1, le=1_000_000, description="the turn rated (its `n`)")
    question: str | None = Field(default=None, min_length=1, max_length=2000, description="or: a /v1/ask question ...")
    answer: RatedAnswer | None = Field(default=None, description="... and its answer, as /v1/ask returned it")
    collection: str | None = Field(default=None, max_length=64, description="the collection the /v1/ask question searched")
    index_version: str | None = Field(default=None, max_length=64, description="default: the live one")

    @model_validator(mode="after")
    def one_target(self) -> "FeedbackRequest":
        turn = self.conversation_id is not None or self.message is not None
        asked = self.question is not None or self.answer is not None
        if turn == asked or (turn and (self.conversation_id is None or self.message is None)):
            raise ValueError("rate either a conversation turn (conversation_id and message) or an answer (question and answer)")
        if asked and (self.question is None or self.answer is None):
            raise ValueError("rate either a conversation turn (conversation_id and message) or an answer (question and answer)")
        return self


class TurnFeedbackRequest(Body):
    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=2000)
