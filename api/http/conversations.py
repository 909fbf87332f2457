"""Routes for conversations and feedback. A conversation belongs to the API key that started it: another key
(or no key) gets 404 for it, as for a document of a collection it may not read. A follow-up is rewritten into a
standalone question before retrieval (`rag.service.chat`), and the rewritten question is returned and stored."""

import asyncio
import logging

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.http.schemas import ConversationRequest, FeedbackRequest, MessageRequest, TurnFeedbackRequest
from api.http.streaming import named_events, watch
from rag.core.errors import Cancelled, NotFound
from rag.core.types import Answer, Conversation, Feedback, Message
from rag.service.access import Principal, check_collection
from rag.service.chat import Chat

log = logging.getLogger(__name__)


def owner_of(who: Principal) -> str:
    """Whose rows a request reads and writes: its API key's id, '' without a key."""
    return who.key_id or ""


class ConversationRoutes:
    def __init__(self, chat: Chat, auth, gate, metrics, models_loaded, ping_s: int):
        self.chat = chat
        self.auth = auth
        self.gate = gate
        self.metrics = metrics
        self.models_loaded = models_loaded
        self.ping_s = ping_s

    def router(self) -> APIRouter:
        r = APIRouter(prefix="/v1")
        auth, chat = self.auth, self.chat

        @r.post("/conversations", status_code=201, response_model=Conversation)
        def start(body: ConversationRequest | None = None, who: Principal = Depends(auth)) -> Conversation:
            """A new, empty conversation of this key, over `collection` (default: every collection the key reads)."""
            body = body or ConversationRequest()
            if body.collection is not None:
                who.check_read(check_collection(body.collection))
            return chat.start(owner_of(who), body.collection, body.title)

        @r.get("/conversations", response_model=list[Conversation])
        def conversations(limit: int = Query(50, ge=1, le=500), who: Principal = Depends(auth)) -> list[Conversation]:
            """This key's conversations, the latest first, without their turns (`turns` counts them)."""
            return chat.conversations.list(owner_of(who), limit)

        @r.get("/conversations/{conv_id}", response_model=Conversation)
        def conversation(conv_id: str, who: Principal = Depends(auth)) -> Conversation:
            """A conversation with every turn: the question as asked, as rewritten, and the answer."""
            return chat.conversations.require(owner_of(who), conv_id)

        @r.delete("/conversations/{conv_id}")
        def delete(conv_id: str, who: Principal = Depends(auth)) -> dict:
            """Delete a conversation and its turns (feedback given on them stays: it is evaluation data)."""
            if not chat.conversations.delete(owner_of(who), conv_id):
                raise NotFound(f"no conversation {conv_id}")
            return {"deleted": conv_id}

        @r.post(
            "/conversations/{conv_id}/messages",
            response_model=Message,
            dependencies=[Depends(self.models_loaded)],
            responses={503: {"description": "busy: retry after the Retry-After header's seconds"}},
        )
        async def message(conv_id: str, body: MessageRequest, request: Request, who: Principal = Depends(auth)):
            """Ask in a conversation: the question is rewritten into a standalone question using the conversation
            (rules, else the model), then answered and stored as the next turn. With `"stream": true`,
            server-sent events: `rewritten` (before retrieval), `token`..., then `message` (or `error`)."""
            owner = owner_of(who)
            conv = await run_in_threadpool(chat.conversations.require, owner, conv_id)
            _, filters = who.scope(conv.collection, body.filters)
            ticket = self.gate.admit()

            def work(send=None) -> Message:
                with ticket:
                    ticket.wait()
                    try:
                        turn = chat.reply(
                            owner,
                            conv_id,
                            body.question,
                            body.k,
                            filters,
                            body.mode,
                            on_token=ticket.chain((lambda piece: send("token", {"text": piece})) if send else None),
                            check=ticket.on_token,
                            on_rewritten=(lambda rw: send("rewritten", rw.model_dump())) if send else None,
                        )
                    except Cancelled:
                        log.warning("generation stopped: the client disconnected")
                        raise
                    self.metrics.observe_answer(turn.answer)
                    return turn

            if body.stream:
                return EventSourceResponse(named_events(work, ticket, final="message"), sep="\n", ping=self.ping_s)
            return await watch(asyncio.ensure_future(run_in_threadpool(work)), ticket.cancel, request)

        @r.post("/conversations/{conv_id}/messages/{n}/feedback", response_model=Feedback)
        def rate_turn(conv_id: str, n: int, body: TurnFeedbackRequest, who: Principal = Depends(auth)) -> Feedback:
            """Thumbs up or down (and a comment) on turn `n`; given again, it replaces the earlier one."""
            return chat.rate_turn(owner_of(who), conv_id, n, body.rating, body.comment)

        @r.post("/feedback", response_model=Feedback)
        def feedback(body: FeedbackRequest, who: Principal = Depends(auth)) -> Feedback:
            """Thumbs up or down on a conversation turn (`conversation_id`, `message`) or on a /v1/ask answer
            (`question`, `answer` as returned), stored with question, answer, citations, model and index version."""
            owner = owner_of(who)
            if body.conversation_id is not None and body.message is not None:
                return chat.rate_turn(owner, body.conversation_id, body.message, body.rating, body.comment)
            assert body.question is not None and body.answer is not None  # the request's validator saw to it
            if body.collection is not None:
                who.check_read(check_collection(body.collection))
            version = body.index_version or chat.index_version()
            answer = Answer(**body.answer.model_dump())
            return chat.rate(owner, body.rating, body.comment, body.question, answer, version, collection=body.collection)

        @r.get("/feedback", response_model=list[Feedback])
        def feedback_list(
            limit: int = Query(100, ge=1, le=1000),
            rating: str | None = Query(None, pattern="^(up|down)$"),
            who: Principal = Depends(auth),
        ) -> list[Feedback]:
            """This key's feedback, the latest first."""
            return chat.feedback.list(owner_of(who), limit, rating)

        @r.delete("/feedback/{feedback_id}")
        def feedback_delete(feedback_id: str, who: Principal = Depends(auth)) -> dict:
            if not chat.feedback.delete(owner_of(who), feedback_id):
                raise NotFound(f"no feedback {feedback_id}")
            return {"deleted": feedback_id}

        return r
