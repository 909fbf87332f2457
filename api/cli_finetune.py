"""`rag finetune ...`: training data from the corpus, LoRA training, export of the adapter."""

import typer

finetune_app = typer.Typer(help="Fine-tune the answer model on your own documents (data, train, export).",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(finetune_app, name="finetune")
