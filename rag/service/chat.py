"""Conversations over the answer service: a follow-up is rewritten into a standalone question (rules, else the
model: `rag.conversation.rewrite`) before retrieval, answered like any question, and stored with its turn; feedback
on an answer is stored with what was asked and answered. The REST routes, the OpenAI-compatible endpoint and the
MCP server share this."""

import logging
import time

from rag.conversation.rewrite import MODEL, UNRESOLVED, Turn, model_messages, parse_model_reply, rewrite_by_rules
from rag.core.errors import BadInput, NotFound
from rag.core.types import Answer, Conversation, Feedback, Filters, Message, Rewritten
from rag.generation.protocol import OnToken
from rag.store.conversations import RATINGS, ConversationStore, FeedbackStore

log = logging.getLogger(__name__)

REWRITE_TOKENS = 64  # a standalone question is one line


class Chat:
    """Conversations and feedback of the service's store; `owner` is the API key's id ('' without a key)."""

    def __init__(self, services):
        self.services = services

    @property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.services.kb.store)

    @property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self.services.kb.store)

    def index_version(self) -> str | None:
        return self.services.kb.versions.manifest().get("version")

    def standalone(self, question: str, history: list[Turn], use_model: bool = True, check: OnToken | None = None) -> Rewritten:
        """The question to search and answer: by rules; by the model when rules cannot (and `use_model`); else as
        written (`unresolved`). `check` is called with every piece the model writes (it may stop it)."""
        cfg = self.services.settings.conversations
        ruled = rewrite_by_rules(question, history)
        if ruled is not None:
            return Rewritten(question=ruled.question, method=ruled.method, rule=ruled.rule)
        asked = " ".join(question.split())
        if not (use_model and cfg.rewrite_model):
            return Rewritten(question=asked, method=UNRESOLVED)
        messages = model_messages(question, history, cfg.history_turns)
        reply = self.services.generator.generate(messages, max_tokens=REWRITE_TOKENS, stop=["\n"], on_token=check)
        modelled = parse_model_reply(reply.text, question)
        if modelled is None:
            log.info("the model gave no standalone question for %r: %r", question, reply.text[:200])
            return Rewritten(question=asked, method=UNRESOLVED)
        return Rewritten(question=modelled.question, method=MODEL)

    def answer(
        self,
        question: str,
        history: list[Turn],
        k: int | None = None,
        collection: str | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
        on_token: OnToken | None = None,
        check: OnToken | None = None,
        on_rewritten=None,
    ) -> tuple[Rewritten, Answer]:
        """Rewrite `question` against `history`, then answer the standalone question. `on_rewritten` hears the
        standalone question before retrieval; `on_token` the answer's pieces; `check` the rewrite model's pieces."""
        mode = mode or self.services.settings.answer.mode
        t0 = time.perf_counter()
        rewritten = self.standalone(question, history, use_model=mode != "extract", check=check)
        rewrite_ms = round((time.perf_counter() - t0) * 1000, 2)
        if on_rewritten is not None:
            on_rewritten(rewritten)
        answer = self.services.ask(rewritten.question, k, collection, filters, mode=mode, on_token=on_token)
        answer.timings_ms["rewrite_ms"] = rewrite_ms
        return rewritten, answer

    # ---- conversations ---------------------------------------------------------------------------------------------
    def start(self, owner: str, collection: str | None = None, title: str = "") -> Conversation:
        return self.conversations.create(owner, collection, title)

    def reply(
        self,
        owner: str,
        conv_id: str,
        question: str,
        k: int | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
        on_token: OnToken | None = None,
        check: OnToken | None = None,
        on_rewritten=None,
    ) -> Message:
        """Answer a follow-up in a conversation (in its collection) and store the turn."""
        store = self.conversations
        conv = store.require(owner, conv_id)
        limit = self.services.settings.conversations.max_turns
        if len(conv.messages) >= limit:
            raise BadInput(f"the conversation holds {limit} turns, the most it may: start a new one")
        history = [Turn(m.rewritten.question, m.answer.answer) for m in conv.messages]
        rewritten, answer = self.answer(
            question, history, k, conv.collection, filters, mode, on_token=on_token, check=check, on_rewritten=on_rewritten
        )
        return store.add_message(owner, conv_id, question.strip(), rewritten, answer, self.index_version())

    # ---- feedback -----------------------------------------------------------------------------------------------------
    def rate_turn(self, owner: str, conv_id: str, n: int, rating: str, comment: str = "") -> Feedback:
        """Feedback on turn `n` of the owner's conversation, with its question, answer, citations, model and index
        version as stored; given again, it replaces the earlier one."""
        conv = self.conversations.require(owner, conv_id)
        message = next((m for m in conv.messages if m.n == n), None)
        if message is None:
            raise NotFound(f"conversation {conv_id} has no turn {n}")
        asked = message.question if message.question != message.rewritten.question else ""
        return self.rate(
            owner, rating, comment, message.rewritten.question, message.answer, message.index_version, asked, conv, n
        )

    def rate(
        self,
        owner: str,
        rating: str,
        comment: str,
        question: str,
        answer: Answer,
        index_version: str | None,
        asked: str = "",
        conversation: Conversation | None = None,
        n: int | None = None,
        collection: str | None = None,
    ) -> Feedback:
        if rating not in RATINGS:
            raise BadInput(f"rating must be one of {', '.join(RATINGS)}, got {rating!r}")
        row = Feedback(
            id="",
            rating=rating,
            comment=comment.strip(),
            question=question,
            asked=asked,
            answer=answer.answer,
            refused=answer.refused,
            citations=answer.citations,
            model=answer.model,
            index_version=index_version,
            collection=conversation.collection if conversation else collection,
            conversation_id=conversation.id if conversation else None,
            message=n,
            created_at="",
        )
        return self.feedback.add(owner, row)
