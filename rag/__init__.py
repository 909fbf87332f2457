"""The core of the grounded document QA service: types, settings, store, models, retrieval, answers.

`rag` never imports `ingest` or `api`, nor FastAPI or Typer.
"""

__version__ = "0.1.0"
