"""The OpenAI-compatible chat endpoint, so Open WebUI, LibreChat or any OpenAI client can ask the service:
`POST /v1/chat/completions` (streamed or not) and `GET /v1/models`. A *model* is a collection the API key may read
(the key is sent as the bearer token, as OpenAI clients do). The last user message is the question; the earlier
user and assistant messages are the conversation it is rewritten against (`rag.service.chat`), as in
`/v1/conversations`. The answer's citations come back as numbered references in the text and in `citations`.

Streaming sends the model's words as it writes them (chunks of `chat.completion.chunk`, ending with
`data: [DONE]`); the citation check runs on the finished answer, so when it changed the text (a sentence its source
does not support dropped, a calculation recomputed, a refusal), the checked answer follows the streamed words under
"Checked answer:", then the references."""

import asyncio
import json
import secrets
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.http.schemas import Body
from api.http.streaming import ERROR, RESULT, relay, watch
from rag.answering.markers import strip_marks
from rag.conversation.rewrite import MAX_QUESTION, Turn, rewrite_by_rules
from rag.core.errors import BadInput, NotFound
from rag.core.types import Answer, Rewritten
from rag.service.access import Principal, check_collection
from rag.service.chat import Chat

OWNER = "grounded-rag"
REFERENCES = "References:"
CHECKED = "Checked answer:"
MAX_TEXT = 20_000  # characters of one message's text


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(max_length=32)
    text: str | None = Field(default=None, max_length=MAX_TEXT)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = Field(default=None, max_length=MAX_TEXT)

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatCompletionRequest(Body):
    """What OpenAI clients send; sampling options (temperature, max_tokens, ...) are accepted and left to the
    service's settings."""

    model_config = ConfigDict(extra="ignore")
    model: str = Field(max_length=64, description="a collection the key may read (GET /v1/models)")
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    mode: Literal["generate", "extract"] | None = Field(
        default=None, description="an extension (OpenAI clients: extra_body): extract mode, verbatim quotes, as for /v1/ask"
    )


def conversation_of(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the turns before it, each earlier question made standalone by the
    rules as it would have been then (system and tool messages are left out)."""
    said = [(m.role, m.text().strip()) for m in messages if m.role in ("user", "assistant")]
    if not said or said[-1][0] != "user" or not said[-1][1]:
        raise BadInput("the last message must be the user's question (role 'user', with text)")
    if len(said[-1][1]) > MAX_QUESTION:
        raise BadInput(f"the question (the last user message) is longer than {MAX_QUESTION} characters")
    turns: list[Turn] = []
    for i, (role, text) in enumerate(said[:-1]):
        if role != "user" or not text:
            continue
        nxt = said[i + 1] if i + 1 < len(said) - 1 else None
        answer = answer_text(nxt[1]) if nxt and nxt[0] == "assistant" else ""
        ruled = rewrite_by_rules(text, turns)
        turns.append(Turn(ruled.question if ruled else text, answer))
    return said[-1][1], turns


def answer_text(content: str) -> str:
    """An earlier assistant message as the answer it held: the checked answer when one was given, without the
    references block this endpoint adds."""
    body = content.split(f"\n\n{REFERENCES}", 1)[0]
    if f"\n\n{CHECKED} " in body:
        body = body.split(f"\n\n{CHECKED} ", 1)[1]
    return body.strip()


def references(answer: Answer) -> str:
    """The numbered references of an answer's citations: `[1] handbook.pdf, page 2: "quote"`."""
    if not answer.citations:
        return ""
    lines = []
    for c in answer.citations:
        quote = " ".join(c.quote.split())
        quote = quote if len(quote) <= 200 else quote[:197].rsplit(" ", 1)[0] + "..."
        lines.append(f"[{c.n}] {c.doc}, page {c.page}" + (f': "{quote}"' if quote else ""))
    return f"\n\n{REFERENCES}\n" + "\n".join(lines)


def _same(a: str, b: str) -> bool:
    return " ".join(strip_marks(a).split()) == " ".join(strip_marks(b).split())


def usage(answer: Answer) -> dict:
    t = answer.timings_ms
    prompt, completion = int(t.get("prompt_tokens", 0)), int(t.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def extras(answer: Answer, rewritten: Rewritten) -> dict:
    """What an OpenAI response carries besides its fields: the citations, the question answered, refusal."""
    return {
        "citations": [c.model_dump() for c in answer.citations],
        "rewritten": rewritten.model_dump(),
        "refused": answer.refused,
    }


class OpenAIRoutes:
    def __init__(self, chat: Chat, auth, gate, metrics, models_loaded, ping_s: int):
        self.chat = chat
        self.auth = auth
        self.gate = gate
        self.metrics = metrics
        self.models_loaded = models_loaded
        self.ping_s = ping_s

    def models(self, who: Principal) -> list[str]:
        """The collections this key may read (without a key: every collection holding documents)."""
        if who.collections is not None:
            return sorted(who.collections)
        return self.chat.services.kb.store.collections() or ["default"]

    def model_card(self, name: str) -> dict:
        return {"id": name, "object": "model", "created": 0, "owned_by": OWNER}

    def router(self) -> APIRouter:
        r = APIRouter(prefix="/v1")
        auth = self.auth

        @r.get("/models")
        def models(who: Principal = Depends(auth)) -> dict:
            """The collections this key may read, as OpenAI models (`model` of a chat completion)."""
            return {"object": "list", "data": [self.model_card(m) for m in self.models(who)]}

        @r.get("/models/{model}")
        def model(model: str, who: Principal = Depends(auth)) -> dict:
            return self.model_card(self._collection(model, who))

        @r.post(
            "/chat/completions",
            dependencies=[Depends(self.models_loaded)],
            responses={503: {"description": "busy: retry after the Retry-After header's seconds"}},
        )
        async def completions(body: ChatCompletionRequest, request: Request, who: Principal = Depends(auth)):
            """An OpenAI chat completion: the last user message answered from the `model` collection, the earlier
            turns its conversation; citations as numbered references in the text and in `citations`. With
            `"stream": true`, `chat.completion.chunk` server-sent events ending with `data: [DONE]`."""
            collection = self._collection(body.model, who)
            question, history = conversation_of(body.messages)
            _, filters = who.scope(collection, None)
            ticket = self.gate.admit()
            stamp = {"id": f"chatcmpl-{secrets.token_hex(12)}", "created": int(time.time()), "model": collection}

            def work(send=None) -> tuple[Rewritten, Answer]:
                with ticket:
                    ticket.wait()
                    rewritten, answer = self.chat.answer(
                        question,
                        history,
                        collection=collection,
                        filters=filters,
                        mode=body.mode,
                        on_token=ticket.chain((lambda piece: send("token", piece)) if send else None),
                        check=ticket.on_token,
                    )
                    self.metrics.observe_answer(answer)
                    return rewritten, answer

            if body.stream:
                include_usage = bool(body.stream_options and body.stream_options.include_usage)
                chunks = self._chunks(work, ticket, stamp, include_usage)
                return EventSourceResponse(chunks, sep="\n", ping=self.ping_s)
            rewritten, answer = await watch(asyncio.ensure_future(run_in_threadpool(work)), ticket.cancel, request)
            message = {"role": "assistant", "content": answer.answer + references(answer)}
            return {
                **stamp,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                "usage": usage(answer),
                **extras(answer, rewritten),
            }

        return r

    def _collection(self, model: str, who: Principal) -> str:
        try:
            name = check_collection(model)
        except BadInput:
            raise NotFound(f"no model {model!r}: GET /v1/models lists the collections this key may ask") from None
        who.check_read(name)
        if name not in self.models(who):
            raise NotFound(f"no model {model!r}: GET /v1/models lists the collections this key may ask")
        return name

    async def _chunks(self, work, ticket, stamp: dict, include_usage: bool):
        def chunk(delta: dict, finish: str | None = None, **more: Any) -> ServerSentEvent:
            data = {
                **stamp,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                **more,
            }
            return ServerSentEvent(data=json.dumps(data, ensure_ascii=False))

        yield chunk({"role": "assistant", "content": ""})
        streamed: list[str] = []
        async for event, data in relay(work, ticket):
            if event == "token":
                streamed.append(data)
                yield chunk({"content": data})
            elif event == ERROR:
                error = {"message": data["detail"], "type": "server_error", "code": data["status"]}
                yield ServerSentEvent(data=json.dumps({"error": error}, ensure_ascii=False))
            elif event == RESULT:
                rewritten, answer = data
                draft = "".join(streamed)
                if not draft.strip():
                    tail = answer.answer
                elif _same(draft, answer.answer):
                    tail = ""
                else:
                    tail = f"\n\n{CHECKED} {answer.answer}"
                tail += references(answer)
                if tail:
                    yield chunk({"content": tail})
                yield chunk({}, "stop", **extras(answer, rewritten))
                if include_usage:
                    yield ServerSentEvent(
                        data=json.dumps({**stamp, "object": "chat.completion.chunk", "choices": [], "usage": usage(answer)})
                    )
        yield ServerSentEvent(data="[DONE]")
