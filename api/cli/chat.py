"""`rag feedback export` (feedback as a question set) and `rag mcp` (the MCP server over stdio)."""

import json
from pathlib import Path
from typing import Optional

import typer

from api.cli import state as cli
from rag.core.errors import BadInput

feedback_app = typer.Typer(help="Feedback given on answers (thumbs up or down).", no_args_is_help=True)


@feedback_app.command("export")
def feedback_export(
    out: Path = typer.Option(..., "--out", help="The JSONL question set to write."),
    rating: Optional[str] = typer.Option(None, "--rating", help="Only up or only down (default: both)."),
    collection: Optional[str] = typer.Option(None, "--collection", help="Only feedback on answers from this collection."),
    key: Optional[str] = typer.Option(None, "--key", help="Only the feedback given with this API key id."),
):
    """Feedback as a question set that `rag eval answers --questions` and `rag finetune data --gold` read: a
    thumbs-up answer is a gold answer (its cited document and pages the evidence), a thumbs-up refusal an
    unanswerable question, a thumbs-down answer a question to check (`"check": true`)."""
    from rag.evaluation.feedback_questions import question_set
    from rag.store.conversations import RATINGS, FeedbackStore
    from rag.store.sql import open_store

    if rating is not None and rating not in RATINGS:
        raise BadInput(f"--rating must be one of {', '.join(RATINGS)}, got {rating!r}")
    store = open_store(cli.current_settings())  # no models: the store alone
    feedback = FeedbackStore(store).list(key, None, rating, collection)
    records, counts = question_set(feedback)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    typer.echo(
        f"wrote {len(records)} questions to {out}: {counts['gold']} gold answers, "
        f"{counts['unanswerable']} unanswerable, {counts['check']} to check"
    )


def mcp(
    collection: Optional[str] = typer.Option(None, "--collection", help="Answer from this collection only."),
):
    """Serve search and ask as MCP tools over stdin/stdout (for assistants that speak the Model Context Protocol)."""
    from api.mcp.server import serve

    serve(cli.services(), collection)


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
    app.command("mcp")(mcp)
