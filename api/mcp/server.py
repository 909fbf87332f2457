"""`rag mcp`: an MCP server over stdio (the MCP Python SDK's `MCPServer`) with two tools, `search` and `ask`, over
the same services as `rag search` and `rag ask` (models load in this process at the first call). It runs as the
operator, like the command line: every collection, or only the one `rag mcp --collection` names.

While it serves, the SDK points the process's stdout at stderr, so nothing a library prints can corrupt the protocol;
logs go to stderr."""

from typing import Literal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

import rag
from rag.answering.answer import check_question
from rag.core.errors import BadInput, RagError
from rag.core.types import Citation, Filters
from rag.service.access import check_collection
from rag.service.services import Services

INSTRUCTIONS = (
    "Search and ask the documents ingested into this grounded-rag service. `ask` answers from the documents only, "
    "every sentence citing a source [n] (document and page); a refusal means the documents do not say. `search` "
    "returns the passages that best match a question, with document, page and score."
)


class Passage(BaseModel):
    n: int = Field(description="rank, from 1")
    doc: str
    page: int
    score: float
    text: str
    chunk_id: str


class Passages(BaseModel):
    query: str
    passages: list[Passage]


class Answered(BaseModel):
    answer: str = Field(description="the answer, each sentence with its [n], then the numbered references")
    refused: bool = Field(description="true when the documents do not answer the question")
    citations: list[Citation]
    model: str | None = Field(default=None, description="the model version that wrote it (none in extract mode)")


def references(citations: list[Citation]) -> str:
    lines = [f'[{c.n}] {c.doc}, page {c.page}: "{" ".join(c.quote.split())[:200]}"' for c in citations]
    return ("\n\nReferences:\n" + "\n".join(lines)) if lines else ""


def build(services: Services, collection: str | None = None) -> MCPServer:
    """The MCP server over `services`; `collection` narrows every search and answer to that collection."""
    if collection is not None:
        check_collection(collection)
    server: MCPServer = MCPServer(name="grounded-rag", version=rag.__version__, instructions=INSTRUCTIONS)
    top_k = services.settings.top_k

    def scope(asked: str | None) -> str | None:
        if asked is not None:
            check_collection(asked)
            if collection is not None and asked != collection:
                raise BadInput(f"this server answers from collection {collection!r} only")
        return asked or collection

    @server.tool(description="Passages of the documents that best match a question, with document, page and score.")
    async def search(question: str, k: int = top_k, collection: str | None = None) -> Passages:
        try:
            where = scope(collection)
            check_question(question, k)
            found = await anyio.to_thread.run_sync(lambda: services.search(question, k, where, Filters()))
        except RagError as exc:  # the reason reaches the client (anything else is a crash: logged, not sent)
            raise ToolError(exc.message) from exc
        return Passages(
            query=found.query,
            passages=[
                Passage(n=i, doc=h.doc, page=h.page, score=round(h.score, 4), text=h.text, chunk_id=h.chunk_id)
                for i, h in enumerate(found.hits, 1)
            ],
        )

    @server.tool(
        description="Answer a question from the documents: every sentence cites its source [n] (document, page), "
        "checked against it; 'Not found in the documents' when they do not say. mode=extract returns verbatim "
        "quotes instead of a written answer."
    )
    async def ask(
        question: str, collection: str | None = None, k: int = top_k, mode: Literal["generate", "extract"] = "generate"
    ) -> Answered:
        try:
            where = scope(collection)
            check_question(question, k)
            answer = await anyio.to_thread.run_sync(lambda: services.ask(question, k, where, Filters(), mode=mode))
        except RagError as exc:
            raise ToolError(exc.message) from exc
        return Answered(
            answer=answer.answer + references(answer.citations),
            refused=answer.refused,
            citations=answer.citations,
            model=(answer.model.version or answer.model.name) if answer.model else None,
        )

    return server


def serve(services: Services, collection: str | None = None) -> None:
    """Serve MCP over stdin/stdout until the client closes it."""
    build(services, collection).run("stdio")
