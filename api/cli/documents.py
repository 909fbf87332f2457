"""`rag documents`: the stored documents, with their profiles (what each is and is about)."""

import json
from typing import Optional

import typer

from api.cli import state as cli
from rag.core.errors import NotFound
from rag.core.types import Document

documents_app = typer.Typer(help="The stored documents and their profiles.", no_args_is_help=True)


@documents_app.command("list")
def documents_list(
    collection: Optional[str] = typer.Option(None, "--collection", help="Only this collection."),
    as_json: bool = typer.Option(False, "--json", help="The same JSON as GET /v1/documents."),
):
    """One line a document: status, pages, chunks, name, and its label (organisation, kind, period)."""
    docs = cli.services().kb.store.documents(collection)
    if as_json:
        typer.echo(json.dumps([d.model_dump() for d in docs], indent=2, ensure_ascii=False))
        return
    for d in docs:
        typer.echo(f"{d.id}  {d.status:6s} {d.pages:5d} pages {d.chunks:6d} chunks  {d.collection}/{d.name}  {d.profile.context}")


@documents_app.command("show")
def documents_show(
    doc: str = typer.Argument(..., help="A document id or name."),
    as_json: bool = typer.Option(False, "--json", help="The document with its profile as JSON."),
):
    """A document's status, tags and profile, each profile field with where it was found."""
    found = _find(doc)
    if as_json:
        typer.echo(json.dumps(found.model_dump(), indent=2, ensure_ascii=False))
        return
    p = found.profile
    typer.echo(f"{found.name}  ({found.id}, {found.collection}, {found.status}, {found.pages} pages, {found.chunks} chunks)")
    if found.aliases:
        typer.echo("also stored as: " + ", ".join(found.aliases))
    if found.tags:
        typer.echo("tags: " + ", ".join(f"{k}={v}" for k, v in sorted(found.tags.items())))
    rows = [
        ("title", p.title),
        ("organizations", "; ".join(p.organizations)),
        ("aliases", "; ".join(p.aliases)),
        ("period", p.period),
        ("kind", p.kind),
        ("language", p.language),
        ("entities", "; ".join(p.entities)),
    ]
    for name, value in rows:
        where = p.sources.get(name)
        typer.echo(f"{name:14s} {value or '-'}" + (f"  ({where})" if where and value else ""))
    if p.outline:
        typer.echo("outline:")
        for heading in p.outline[:20]:
            typer.echo(f"  {heading}")


@documents_app.command("remove")
def documents_remove(
    name: str = typer.Argument(..., help="A document id, or a path (a document's own or one of its aliases)."),
    collection: str = typer.Option("default", "--collection", "-c", help="The collection of a path."),
):
    """Remove one name: the document is deleted only when no other name (alias) refers to its content."""
    kb = cli.services().kb
    doc = kb.store.document(name)
    where, path = (doc.collection, doc.path) if doc else (collection, name)
    what, doc_id, chunks = kb.remove_name(where, path)
    if what == "none":
        from pathlib import Path

        what, doc_id, chunks = kb.remove_name(where, str(Path(name).resolve()))
    if what == "none":
        raise NotFound(f"no document or alias {name!r} in collection {where!r} (see `rag documents list`)")
    kept = kb.store.document(doc_id) if doc_id else None
    said = {
        "alias": f"alias {path} removed; document {doc_id} stays",
        "renamed": f"{path} removed; document {doc_id} stays as {kept.path if kept else '?'} (its alias)",
        "deleted": f"document {doc_id} deleted ({chunks} chunks)",
    }
    typer.echo(said[what])


def _find(ident: str) -> Document:
    store = cli.services().kb.store
    found = store.document(ident)
    if found:
        return found
    named = [d for d in store.documents() if d.name == ident]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(d.id for d in named)
        raise NotFound(f"{len(named)} documents are named {ident!r} ({ids}): give the id")
    raise NotFound(f"no document {ident!r} (see `rag documents list`)")


def register(app: typer.Typer) -> None:
    app.add_typer(documents_app, name="documents")
