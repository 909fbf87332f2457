"""`rag finetune ...`: training data from the corpus, LoRA training, export of the adapter."""

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from api.cli import state as cli

finetune_app = typer.Typer(help="Fine-tune the answer model on your own documents (data, train, export).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(finetune_app, name="finetune")


def _services():
    return cli.services()


@finetune_app.command("data")
def data(
    out: Path = typer.Option(..., "--out", help="Folder for train/val/test JSONL and the data card."),
    count: int = typer.Option(
        200, "--count", help="Teacher calls (each gives at most one answerable and one unanswerable example)."
    ),
    teacher: Optional[str] = typer.Option(
        None,
        "--teacher",
        help="Manifest model that writes the questions "
        "(default: RAG_GENERATOR__MODEL, the 1.5B base, without adapter; "
        "RAG_GENERATOR__BACKEND=openai and RAG_GENERATOR__ENDPOINT for an "
        "endpoint).",
    ),
    gold: Optional[Path] = typer.Option(
        None, "--gold", help="JSONL of person-written {question, answer}: shown to the teacher as examples and mixed in."
    ),
    collection: Optional[str] = typer.Option(None, "--collection", "-c"),
    seed: int = typer.Option(0, "--seed"),
    swapped_share: float = typer.Option(
        0.25,
        "--swapped-share",
        help="Share of questions that also give a twin about an invented name, whose target is the refusal.",
    ),
    licence: str = typer.Option("", "--licence", help="Licence of the source documents, for the data card."),
):
    """Write grounded training examples from the chunks already in the index (filtered; with a data card).

    Teacher replies are kept in OUT/teacher_replies.jsonl as they come: run the same command again after an
    interruption and only the missing ones are asked."""
    from rag.finetune.data import DataConfig, Synthesizer, load_gold, write_dataset
    from rag.generation.factory import make_generator

    svc = _services()
    settings = svc.settings.generator
    if teacher:
        settings = settings.model_copy(update={"model": teacher, "lora_path": None})
    teacher_gen = make_generator(settings, svc.registry)
    cfg = DataConfig(count=count, seed=seed, collection=collection, licence=licence, swapped_share=swapped_share)
    out.mkdir(parents=True, exist_ok=True)
    synth = Synthesizer(
        svc.kb, teacher_gen, cfg, svc.settings.answer, load_gold(gold) if gold else [], cache=out / "teacher_replies.jsonl"
    )

    def progress(i: int, n: int, kept: int) -> None:
        print(f"\r[{i}/{n}] teacher calls, {kept} examples kept", end="", file=sys.stderr, flush=True)

    examples = synth.run(progress)
    print(file=sys.stderr)
    card = synth.card()
    files = write_dataset(out, examples, card, synth.heldout())
    typer.echo(
        json.dumps(
            {"examples": card["examples"], "per_split": card["per_split"], "removed": card["removed"], "files": files}, indent=1
        )
    )


@finetune_app.command("train")
def train(
    data_dir: Path = typer.Option(..., "--data", help="The folder `rag finetune data` wrote."),
    out: Path = typer.Option(
        ..., "--out", help="Output folder: checkpoints/, adapter/, train_report.json. Run again with the same folder to resume."
    ),
    base: str = typer.Option("qwen2.5-coder-0.5b-instruct-q4_k_m", "--base", help="Manifest model to tune."),
    epochs: float = typer.Option(1.0, "--epochs"),
    lr: float = typer.Option(2e-4, "--lr"),
    rank: int = typer.Option(16, "--rank"),
    accumulate: int = typer.Option(4, "--accumulate", help="Examples per optimizer step."),
    max_steps: int = typer.Option(0, "--max-steps", help="Stop after this many steps (0: the epochs decide)."),
    save_every: int = typer.Option(10, "--save-every"),
    eval_every: int = typer.Option(20, "--eval-every"),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present) | cpu | cuda"),
    seed: int = typer.Option(0, "--seed"),
):
    """LoRA-train the base model on the examples (loss on answer tokens only); resumable."""
    from tqdm import tqdm

    from rag.finetune.train import TrainConfig, Trainer

    cfg = TrainConfig(
        base=base,
        epochs=epochs,
        lr=lr,
        rank=rank,
        alpha=2 * rank,
        accumulate=accumulate,
        max_steps=max_steps,
        save_every=save_every,
        eval_every=eval_every,
        device=device,
        seed=seed,
    )
    bar = None

    def progress(p: dict) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                total=p["total"],
                initial=p["step"] - 1,
                unit="step",
                file=sys.stderr,
                disable=None if sys.stderr.isatty() else False,
                mininterval=0 if not sys.stderr.isatty() else 0.1,
            )
        bar.update(1)
        bar.set_postfix(loss=f"{p['loss']:.3f}", val="-" if p["val"] is None else f"{p['val']:.3f}")

    report = Trainer(_services().settings, data_dir, out, cfg).run(progress)
    if bar is not None:
        bar.close()
    keys = (
        "base",
        "adapter",
        "adapter_sha256",
        "steps",
        "train_loss_first",
        "train_loss_last",
        "val",
        "device",
        "train_seconds",
        "tokens_per_s",
        "peak_rss_mb",
    )
    typer.echo(json.dumps({k: report.get(k) for k in keys}, indent=1))


# ---- export: a peft LoRA adapter as GGUF, registered as a model version ------------------------------
@finetune_app.command("export")
def export(
    adapter_dir: Path = typer.Argument(..., help="A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors)."),
    base: str = typer.Option(..., "--base", help="The manifest model it was trained on (see `rag models list`)."),
    name: str = typer.Option(..., "--name", help="The new model version's id (letters, digits, . _ -)."),
    data_card: Optional[Path] = typer.Option(None, "--data-card", help="Training data card (JSON), kept with it."),
    eval_report: Optional[Path] = typer.Option(None, "--eval-report", help="Eval report (JSON), kept with it."),
    notes: str = typer.Option("", "--notes", help="A line about this version."),
    outtype: str = typer.Option("f32", "--outtype", help="f32 (exact) or f16 (half the size)."),
    use: bool = typer.Option(False, "--use", help="Make it the current model version at once."),
    as_json: bool = typer.Option(False, "--json"),
):
    """Convert a LoRA adapter to GGUF for llama.cpp and register base + adapter (+ data card, eval report) as a
    model version; `rag models use NAME` serves it."""

    version = cli.services().versions.export(
        adapter_dir, base, name, data_card=data_card, eval_report=eval_report, notes=notes, outtype=outtype
    )
    if use:
        cli.services().versions.use(version.id)
    if as_json:
        typer.echo(json.dumps(dict(version.as_dict(), current=use), indent=2))
        return
    m = version.meta
    typer.echo(
        f"model version {version.id}: {base} + adapter {version.adapter} (sha256 {version.adapter_sha256}; "
        f"{m['pairs']} weights, rank {'/'.join(map(str, m['ranks']))}, alpha {m['alpha']:g}, "
        f"{', '.join(m['modules'])})"
    )
    typer.echo(f"current model version: {version.id}" if use else f"serve it with: rag models use {version.id}", err=True)


# ---- the embedder: pairs from the corpus, training, ONNX export, registered as an embedder version ----------------
@finetune_app.command("embedder")
def embedder(
    out: Path = typer.Option(
        ...,
        "--out",
        help="Work folder: pairs.jsonl, data_card.json, model/, onnx/, train_report.json, eval_report.json.",
    ),
    name: Optional[str] = typer.Option(
        None, "--name", help="The embedder version's id (letters, digits, . _ -; default: <model>-tuned-<UTC time>)."
    ),
    questions: Optional[Path] = typer.Option(
        None,
        "--questions",
        help="train.jsonl of a `rag finetune data` set: the teacher's questions (train split) join the model-free ones.",
    ),
    collection: Optional[str] = typer.Option(None, "--collection", "-c", help="Only the chunks of this collection."),
    epochs: int = typer.Option(1, "--epochs"),
    batch_size: int = typer.Option(32, "--batch-size", help="Pairs per step (each also meets every other pair's chunks)."),
    lr: float = typer.Option(2e-5, "--lr"),
    max_pairs: int = typer.Option(0, "--max-pairs", help="Training pairs kept, drawn at random (0: all)."),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present) | cpu | cuda"),
    notes: str = typer.Option("", "--notes", help="A line about this version."),
    use: bool = typer.Option(
        False, "--use", help="Switch to it at once: re-embed the index into a new version, publish it, then point at it."
    ),
    as_json: bool = typer.Option(False, "--json"),
):
    """Tune the embedder on the indexed chunks: questions made from headings, table rows and profiles (plus teacher
    questions), a hard negative each from another document, MultipleNegativesRankingLoss; exported to ONNX and
    registered as an embedder version with its data card and eval report. Never reads evaluation qrels."""
    import time

    from tqdm import tqdm

    from rag.finetune.embedder_pairs import PairConfig, PairMaker
    from rag.finetune.embedder_train import TrainConfig, heldout_recall, pick_device, train_embedder

    svc = _services()
    base = svc.settings.embedder.model
    version_id = name or f"{base}-tuned-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    svc.embedder_versions.check_new_id(version_id)  # before the slow part
    pick_device(device)

    def say(msg: str) -> None:
        typer.echo(msg, err=True)

    data = PairMaker(svc.kb, PairConfig(seed=seed, max_pairs=max_pairs, collection=collection), questions).run(say)
    data.write(out)
    say(f"{len(data.train)} training pairs, {len(data.heldout)} held out; negatives {data.card['negatives']}")
    bar = None

    def progress(event: dict) -> None:
        nonlocal bar
        if event["phase"] != "train":
            say(event["message"])
        elif bar is None:
            bar = tqdm(total=event["total"], unit="step", file=sys.stderr, disable=None if sys.stderr.isatty() else False)
        else:
            bar.update(1)
            bar.set_postfix(loss=f"{event['loss']:.3f}")

    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device)
    trained = train_embedder(svc.registry, base, data, out, cfg, progress)
    if bar is not None:
        bar.close()
    say(f"scoring {len(data.heldout)} held-out pairs with the embedder serving now and with the tuned one")
    report = heldout_recall(svc.embedder, trained.candidate(svc.settings.embedder, svc.registry), data, seed=seed)
    for content, file in ((trained.train_report, "train_report.json"), (report, "eval_report.json")):
        (out / file).write_text(json.dumps(content, indent=1))
    meta = {k: trained.train_report[k] for k in ("device", "config", "train_pairs", "steps", "loss_first", "loss_last")}
    version = svc.embedder_versions.register(
        version_id, base, trained.model_dir, trained.onnx_dir, data.card, report, notes=notes, meta=meta
    )
    switched = svc.use_embedder(version.id) if use else None
    before, after = report["before"], report["after"]
    if as_json:
        typer.echo(json.dumps({"version": version.as_dict(), "eval": report, "switched": switched}, indent=2))
        return
    typer.echo(
        f"embedder version {version.id}: {base} tuned on {len(data.train)} pairs in {trained.train_report['steps']} steps "
        f"({trained.train_report['device']}, {trained.train_report['train_seconds']} s); sha256 {version.sha256}\n"
        f"held-out recall@1 {before['recall@1']} -> {after['recall@1']}, "
        f"recall@10 {before['recall@10']} -> {after['recall@10']} ({after['queries']} pairs)"
    )
    if switched:
        typer.echo(f"current embedder version: {version.id} (index version {switched['index_version']})", err=True)
    else:
        typer.echo(f"switch to it with: rag models use --embedder {version.id}", err=True)
