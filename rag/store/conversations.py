"""Conversations and feedback as rows of the store (SQLite or PostgreSQL), each belonging to an owner: the id of the API key that
made it ('' without a key). Every read and write names the owner, so one key never sees another's rows."""

import json
import secrets

from rag.core.errors import NotFound
from rag.core.types import Answer, Citation, Conversation, Feedback, Message, ModelRef, Rewritten
from rag.store.database import utc_now
from rag.store.protocol import Store

TITLE_CHARS = 80
RATINGS = ("up", "down")


def title_of(question: str) -> str:
    """A conversation's title: its first question, shortened at a word."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    return text[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


class ConversationStore:
    """Conversations and their turns in the store's database (its write transactions)."""

    def __init__(self, store: Store):
        self.store = store

    def create(self, owner: str, collection: str | None = None, title: str = "") -> Conversation:
        conv_id = secrets.token_hex(8)
        now = utc_now()
        with self.store.sql.write() as db:
            db.execute(
                "INSERT INTO conversations(id,owner,title,collection,created_at,updated_at) VALUES (?,?,?,?,?,?)",
                (conv_id, owner, title_of(title), collection, now, now),
            )
        return self.require(owner, conv_id)

    def require(self, owner: str, conv_id: str) -> Conversation:
        """The owner's conversation with its turns; NotFound when it does not exist or is another key's."""
        conv = self.get(owner, conv_id)
        if conv is None:
            raise NotFound(f"no conversation {conv_id}")
        return conv

    def get(self, owner: str, conv_id: str) -> Conversation | None:
        row = self.store.sql.one("SELECT * FROM conversations WHERE id=? AND owner=?", (conv_id, owner))
        if row is None:
            return None
        messages = [
            _message(m)
            for m in self.store.sql.all("SELECT * FROM conversation_messages WHERE conversation_id=? ORDER BY n", (conv_id,))
        ]
        return _conversation(row, len(messages), messages)

    def list(self, owner: str, limit: int = 50) -> list[Conversation]:
        """The owner's conversations, the latest first, without their turns (`turns` counts them)."""
        rows = self.store.sql.all(
            "SELECT c.*, (SELECT COUNT(*) FROM conversation_messages m WHERE m.conversation_id=c.id) AS turns"
            " FROM conversations c WHERE owner=? ORDER BY updated_at DESC, seq DESC LIMIT ?",
            (owner, limit),
        )
        return [_conversation(r, r["turns"], []) for r in rows]

    def delete(self, owner: str, conv_id: str) -> bool:
        with self.store.sql.write() as db:
            return db.execute("DELETE FROM conversations WHERE id=? AND owner=?", (conv_id, owner)).rowcount > 0

    def add_message(
        self, owner: str, conv_id: str, question: str, rewritten: Rewritten, answer: Answer, index_version: str | None
    ) -> Message:
        """Append an answered turn (numbered after the last one); the first names the conversation if it has no title."""
        now = utc_now()
        with self.store.sql.write() as db:
            row = db.execute("SELECT title FROM conversations WHERE id=? AND owner=?", (conv_id, owner)).fetchone()
            if row is None:  # deleted while the answer was being made
                raise NotFound(f"no conversation {conv_id}")
            n = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM conversation_messages WHERE conversation_id=?", (conv_id,))
            number = n.fetchone()[0]
            db.execute(
                "INSERT INTO conversation_messages(conversation_id,n,question,rewritten,answer,index_version,created_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (conv_id, number, question, rewritten.model_dump_json(), answer.model_dump_json(), index_version, now),
            )
            title = row["title"] or title_of(question)
            db.execute("UPDATE conversations SET updated_at=?, title=? WHERE id=?", (now, title, conv_id))
        return Message(
            n=number, question=question, rewritten=rewritten, answer=answer, index_version=index_version, created_at=now
        )


class FeedbackStore:
    """Thumbs up or down on answers; one per conversation turn and owner (given again, it replaces the first)."""

    def __init__(self, store: Store):
        self.store = store

    def add(self, owner: str, feedback: Feedback) -> Feedback:
        row = feedback.model_copy(update={"id": secrets.token_hex(8), "created_at": utc_now()})
        with self.store.sql.write() as db:
            if row.conversation_id is not None:
                db.execute(
                    "DELETE FROM feedback WHERE owner=? AND conversation_id=? AND message=?",
                    (owner, row.conversation_id, row.message),
                )
            db.execute(
                "INSERT INTO feedback(id,owner,rating,comment,question,asked,answer,refused,citations,model,index_version,"
                "collection,conversation_id,message,created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.id,
                    owner,
                    row.rating,
                    row.comment,
                    row.question,
                    row.asked,
                    row.answer,
                    int(row.refused),
                    json.dumps([c.model_dump() for c in row.citations]),
                    row.model.model_dump_json() if row.model else None,
                    row.index_version,
                    row.collection,
                    row.conversation_id,
                    row.message,
                    row.created_at,
                ),
            )
        return row

    def list(
        self, owner: str | None, limit: int | None = 100, rating: str | None = None, collection: str | None = None
    ) -> list[Feedback]:
        """Feedback of `owner` (None: of every owner, for the operator's export), the latest first."""
        sql, args = "SELECT * FROM feedback WHERE 1=1", list[str | int]()
        for column, value in (("owner", owner), ("rating", rating), ("collection", collection)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        sql += " ORDER BY created_at DESC, seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_feedback(r) for r in self.store.sql.all(sql, args)]

    def delete(self, owner: str, feedback_id: str) -> bool:
        with self.store.sql.write() as db:
            return db.execute("DELETE FROM feedback WHERE id=? AND owner=?", (feedback_id, owner)).rowcount > 0


def _conversation(row, turns: int, messages: list[Message]) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        collection=row["collection"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        turns=turns,
        messages=messages,
    )


def _message(row) -> Message:
    return Message(
        n=row["n"],
        question=row["question"],
        rewritten=Rewritten.model_validate_json(row["rewritten"]),
        answer=Answer.model_validate_json(row["answer"]),
        index_version=row["index_version"],
        created_at=row["created_at"],
    )


def _feedback(row) -> Feedback:
    return Feedback(
        id=row["id"],
        rating=row["rating"],
        comment=row["comment"],
        question=row["question"],
        asked=row["asked"],
        answer=row["answer"],
        refused=bool(row["refused"]),
        citations=[Citation(**c) for c in json.loads(row["citations"])],
        model=ModelRef.model_validate_json(row["model"]) if row["model"] else None,
        index_version=row["index_version"],
        collection=row["collection"],
        conversation_id=row["conversation_id"],
        message=row["message"],
        created_at=row["created_at"],
    )
