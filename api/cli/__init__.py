"""The `rag` command line (Typer): one Typer app per command group, assembled here.

Every command parses input, calls one core function, prints. `commands` holds the root app with the core commands
(parse, ingest, search, ask, serve, info) and the `models` and `eval` groups; `ops` the `keys` and `index` groups,
`worker` and `reindex`; `documents` the `documents` group; `finetune` the `finetune` group; `chat` the `feedback` group and `mcp`.
"""

import sys

import typer

from api.cli import chat, documents, finetune, ops
from api.cli.commands import app
from rag.core.errors import BadInput, NotFound, RagError

ops.register(app)
documents.register(app)
finetune.register(app)
chat.register(app)


def main() -> None:
    """Console entry point: RagError becomes a one-line message and an exit code (2 for bad input)."""
    try:
        app()
    except RagError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(2 if isinstance(exc, (BadInput, NotFound)) else 1)


__all__ = ["app", "main"]
