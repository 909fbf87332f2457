"""Operator commands of `rag`: API keys, the store's schema, the index (versions, rollback, rebuild), the job worker,
re-indexing."""

import json
from pathlib import Path
from typing import Optional

import typer

from api.cli import state as cli

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)


def _keyring():
    from rag.service.access import KeyRing

    return KeyRing(cli.services().kb.store)


@keys_app.command("create")
def keys_create(
    collection: list[str] = typer.Option(..., "--collection", "-c", help="A collection the key may use; repeatable."),
    rights: str = typer.Option("read", "--rights", help="read, or write (includes read)."),
    name: str = typer.Option("", "--name", help="A label to recognise the key by."),
    as_json: bool = typer.Option(False, "--json"),
):
    """Create an API key and print it. Only its sha256 is stored: the key cannot be shown again."""
    token, record = _keyring().create(collection, rights, name)
    if as_json:
        typer.echo(json.dumps(dict(record, key=token)))
        return
    typer.echo(token)
    typer.echo(
        f"id {record['id']}, {record['rights']} on {', '.join(record['collections'])} (store the key now: it is not shown again)",
        err=True,
    )


@keys_app.command("list")
def keys_list(
    as_json: bool = typer.Option(False, "--json"), all_keys: bool = typer.Option(False, "--all", help="Include revoked keys.")
):
    """Every API key: id, rights, collections, created, revoked (never the key itself)."""
    keys = [k for k in _keyring().list() if all_keys or not k["revoked_at"]]
    if as_json:
        typer.echo(json.dumps(keys, indent=2))
        return
    for k in keys:
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "live"
        typer.echo(
            f"{k['id']}  {k['rights']:5s}  {','.join(k['collections']):30s}  created {k['created_at']}  {state}  {k['name']}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="The key's id (from `rag keys list`).")):
    """Revoke an API key: it is refused (401) from the next request on."""
    _keyring().revoke(key_id)
    typer.echo(f"revoked {key_id}")


db_app = typer.Typer(help="The store's database: its schema version and migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(as_json: bool = typer.Option(False, "--json")):
    """Apply the store's missing schema migrations, in order, once (the service also does at start, unless
    RAG_STORE__MIGRATE=false). Needs no models."""
    from rag.store.migrations import LATEST, current_version, upgrade
    from rag.store.sql import database_of

    db = database_of(cli.current_settings())
    try:
        before = current_version(db)
        applied = upgrade(db)
    finally:
        db.close()
    if as_json:
        typer.echo(json.dumps({"store": db.where, "before": before, "version": LATEST, "applied": applied}))
        return
    done = f"applied {', '.join(map(str, applied))}" if applied else "nothing to apply"
    typer.echo(f"{db.where}: schema version {before} -> {LATEST} ({done})")


@db_app.command("status")
def db_status(as_json: bool = typer.Option(False, "--json")):
    """The store's database, its schema version and the version this code needs."""
    from rag.store.migrations import LATEST, current_version
    from rag.store.sql import database_of

    db = database_of(cli.current_settings())
    try:
        version = current_version(db)
    finally:
        db.close()
    if as_json:
        typer.echo(json.dumps({"store": db.where, "dialect": db.dialect, "version": version, "latest": LATEST}))
        return
    behind = "" if version == LATEST else f" (this code needs {LATEST}: run `rag db upgrade`)"
    typer.echo(f"{db.where} ({db.dialect}): schema version {version}{behind}")


def worker(
    threads: int = typer.Option(0, "--threads", "-t", help="Jobs run at once (default RAG_JOBS__WORKERS)."),
    preload: bool = typer.Option(True, "--preload/--no-preload", help="Load the embedder before taking jobs."),
    inference_threads: Optional[int] = typer.Option(
        None,
        "--inference-threads",
        help="CPU threads of the embedder and parse models, OpenMP and BLAS "
        "(default RAG_JOBS__INFERENCE_THREADS; 0 = every core). With W "
        "workers on C cores: C / W.",
    ),
    metrics_port: int = typer.Option(
        0, "--metrics-port", help="Serve this worker's Prometheus metrics on this port (0: not served)."
    ),
    metrics_host: str = typer.Option("127.0.0.1", "--metrics-host", help="Address to serve them on."),
):
    """Run ingestion jobs from the queue (Huey; SQLite in the data dir by default) until stopped (SIGINT/SIGTERM).

    On start, and every minute, jobs left unfinished by a dead worker are queued again."""
    from api.http.observe import configure_logging
    from ingest.jobs.queue import make_job_queue
    from ingest.jobs.worker_metrics import WorkerMetrics
    from rag.core.threads import limit_threads, with_threads
    from rag.store.jobs import JobStore

    settings = cli.current_settings()
    budget = settings.jobs.inference_threads if inference_threads is None else inference_threads
    if budget:  # before any model loads: the libraries size their pools once
        limit_threads(budget)
        cli.State.settings, cli.State.services = with_threads(settings, budget), None
    services = cli.services()
    configure_logging(services.settings.log_format)
    if preload:
        services.embedder.warm_up()
    services.kb.repair()
    queue = make_job_queue(services.settings, JobStore(services.kb.store), services)
    if metrics_port:
        queue.metrics = WorkerMetrics(queue.pending, budget)
        queue.metrics.serve(metrics_port, metrics_host)
    recovered = queue.recover(startup=True)
    typer.echo(
        f"worker {queue.worker_name}: queue {services.settings.jobs.queue}, "
        f"{threads or services.settings.jobs.workers} at once, {budget or 'all'} inference threads, "
        + (f"metrics on {metrics_host}:{metrics_port}, " if metrics_port else "")
        + f"{len(recovered)} unfinished jobs re-queued",
        err=True,
    )
    queue.consumer(threads or None).run()


index_app = typer.Typer(help="The published vector and BM25 indexes: versions, rollback, rebuild.", no_args_is_help=True)


def reindex(
    full: bool = typer.Option(False, "--full", help="Re-parse and re-embed every file, changed or not."),
    source: list[Path] = typer.Option(
        None, "--source", "-s", help="A folder to rescan (default: the configured RAG_INGEST__SOURCES); repeatable."
    ),
    collection: str = typer.Option("default", "--collection", "-c", help="The collection of --source folders."),
    as_json: bool = typer.Option(False, "--json"),
):
    """Bring the index in step with the source folders: new and changed files ingested, deleted ones removed, one
    new index version published at the end (queries use the previous one until then). Exit code 1 if a file failed."""
    from ingest.jobs.reindex import reindex as run
    from ingest.pipeline import relative
    from rag.core.errors import BadInput
    from rag.core.settings import Source

    services = cli.services()
    sources = [Source(path=p, collection=collection) for p in source] if source else services.settings.ingest.sources
    if not sources:
        raise BadInput("nothing to rescan: pass --source DIR or set RAG_INGEST__SOURCES")
    report = run(services, sources, full=full)
    data = report.as_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        c = data["counts"]
        typer.echo(
            f"files: {c['ok']} new or changed, {c['skipped']} unchanged, {c.get('deleted', 0)} deleted, "
            f"{c['failed']} failed; {sum(f.chunks for f in report.files if f.status == 'ok')} chunks written, "
            f"{data['seconds']:.1f}s; "
            f"index version {services.kb.versions.manifest().get('version')}"
        )
        for f in report.failed:
            typer.echo(f"FAILED {relative(f.path)}: {f.reason}")
    raise typer.Exit(0 if report.ok else 1)


@index_app.command("versions")
def index_versions(as_json: bool = typer.Option(False, "--json")):
    """The kept index versions, oldest first, the live one marked."""

    versions = cli.services().kb.versions.versions()
    if as_json:
        typer.echo(json.dumps(versions, indent=2))
        return
    for v in versions:
        typer.echo(
            f"{'*' if v['live'] else ' '} {v['version']}  {v.get('count', 0):8d} vectors  "
            f"{v.get('kind', '')}  {(v.get('embedder') or {}).get('name', '?')}  {v.get('created_at', '')}"
        )


@index_app.command("rollback")
def index_rollback(version: Optional[str] = typer.Argument(None, help="The version (default: the one before the live one).")):
    """Make a kept index version live again (the next write reconciles it with the stored documents)."""

    target = cli.services().kb.rollback(version)
    typer.echo(f"live index version: {target['version']} ({target.get('count', 0)} vectors)")


@index_app.command("rebuild")
def index_rebuild(
    rechunk: bool = typer.Option(
        False,
        "--rechunk",
        help="First chunk every document again from its kept layout HTML (after a chunker upgrade); no file is parsed again.",
    ),
):
    """Recompute the documents' profiles, re-embed every stored chunk with the configured embedder (after changing
    RAG_EMBEDDER__BACKEND, the model or RAG_RETRIEVAL__CHUNK_CONTEXT) and publish the result as a new index version."""
    from ingest.pipeline import rebuild

    result = rebuild(cli.services(), rechunk=rechunk, progress=lambda line: typer.echo(line, err=True))
    e = result["embedder"]
    if result["kept_chunks"]:
        typer.echo(f"kept their chunks (no readable layout HTML): {', '.join(result['kept_chunks'])}", err=True)
    typer.echo(
        (f"{result['rechunked']} documents re-chunked; " if rechunk else "")
        + f"rebuilt {result['vectors']} vectors with {e['name']} ({e['backend']} backend, {e['chunk_text']} chunk text);"
        f" {result['profiles']} document profiles recomputed"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(db_app, name="db")
    app.add_typer(index_app, name="index")
    app.command("worker")(worker)
    app.command("reindex")(reindex)
