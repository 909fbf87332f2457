"""Fine-tuning on the real 0.5B: data synthesis from a tiny generated corpus, then a few LoRA steps (CPU)."""

import json
import subprocess
import sys

import pytest

from ingest.pipeline import Ingestor
from rag.answering.citations import check_citations
from rag.answering.prompts import NOT_FOUND
from rag.core.types import Hit
from rag.finetune.data import DataConfig, Synthesizer, write_dataset
from rag.finetune.train import TrainConfig, Trainer
from rag.service.services import Services
from tests.helpers.models import ROOT, SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Three fictional companies (a handbook and a results table each), ingested; the 0.5B as the teacher."""
    folder = tmp_path_factory.mktemp("ft-corpus")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_finetune_corpus.py"), str(folder), "--companies", "3", "--seed", "1"],
        check=True,
        capture_output=True,
    )
    settings = make_settings(tmp_path_factory.mktemp("ft-data"))
    settings.generator.threads = 2
    svc = Services(settings)
    report = Ingestor(svc).ingest_paths(sorted(folder.glob("*.pdf")))
    assert not report.failed
    return svc


GOLD = [
    {
        "question": "How many days of paid annual leave do employees receive at all three companies combined?",
        "answer": "They receive 99 days in total.",
    },  # planted: 99 is in no document
    {"question": "Who is the chief executive of the Moon Base Corporation?", "answer": ""},
]


@pytest.fixture(scope="module")
def dataset(corpus, tmp_path_factory):
    gold = GOLD
    out = tmp_path_factory.mktemp("ft-set")
    synth = Synthesizer(
        corpus.kb,
        corpus.generator,
        DataConfig(count=8, seed=0),
        corpus.settings.answer,
        gold,
        cache=out / "teacher_replies.jsonl",
    )
    examples = synth.run()
    write_dataset(out, examples, synth.card(), synth.heldout(("train", "val", "test")))
    return out, examples, synth


def test_synthesis_writes_checked_examples_and_a_data_card(dataset):
    out, examples, synth = dataset
    card = json.loads((out / "data_card.json").read_text())
    assert card["teacher"]["name"] == SMALL_MODEL and card["teacher_calls"] == 8
    assert card["examples"] == len(examples) >= 5
    assert {"table_lookup", "unanswerable"} <= set(card["per_kind"])
    assert card["removed"]["answer_not_in_source"] >= 1  # the planted gold answer with 99 days
    written = sum(
        1 for split in ("train", "val", "test") for line in (out / f"{split}.jsonl").read_text().splitlines() if line.strip()
    )
    assert written == len(examples)
    for e in examples:
        assert e.messages[-1]["content"].endswith(f"Question: {e.question}")
        if not e.answerable:
            assert e.target == NOT_FOUND
            continue
        # the target passes the service's own citation check against the sources as posed
        hits = [
            Hit(chunk_id=s["chunk_id"], doc_id="", doc=s["doc"], page=s["page"], score=0, text=_text(synth, s["chunk_id"]))
            for s in e.sources
        ]
        _, citations, dropped = check_citations(e.target, hits, e.question)
        assert citations and not dropped, (e.question, e.target)
    answerable_questions = {e.question for e in examples if e.answerable}
    for e in examples:
        if e.kind == "swapped":  # a twin about an invented name: refused, and never the question of an answer
            assert e.target == NOT_FOUND and e.question not in answerable_questions
    gold_unanswerable = [e for e in examples if e.origin == "gold"]
    assert [e.target for e in gold_unanswerable] == [NOT_FOUND]


def test_a_rerun_reuses_the_teacher_replies(corpus, dataset):
    out, examples, _ = dataset

    class Counting:
        calls = 0

        def __getattr__(self, name):
            return getattr(corpus.generator, name)

        def generate(self, *args, **kwargs):
            Counting.calls += 1
            return corpus.generator.generate(*args, **kwargs)

    again = Synthesizer(
        corpus.kb, Counting(), DataConfig(count=8, seed=0), corpus.settings.answer, GOLD, cache=out / "teacher_replies.jsonl"
    )
    redone = again.run()
    assert Counting.calls == 0 and again.teacher_calls == 8
    assert [e.question for e in redone if e.origin == "teacher"] == [e.question for e in examples if e.origin == "teacher"]


def _text(synth, chunk_id: str) -> str:
    rows = synth.kb.store.chunks_by_vid(synth.kb.store.all_vids())
    return next(r["text"] for r in rows.values() if r["id"] == chunk_id)


def test_a_few_training_steps_lower_the_loss_and_resume(corpus, dataset, tmp_path):
    out, examples, _ = dataset
    data = tmp_path / "data"
    data.mkdir()
    train = examples[:2]  # two examples, one a step: the fewest forward and backward passes that test a resume
    rows = "".join(json.dumps({"messages": e.messages, "target": e.target}) + "\n" for e in train)
    (data / "train.jsonl").write_text(rows)
    (data / "val.jsonl").write_text(rows)  # the same examples: their loss must fall
    cfg = TrainConfig(
        base=SMALL_MODEL, lr=2e-3, rank=8, alpha=16, accumulate=1, max_steps=1, save_every=1, eval_every=100, device="cpu"
    )
    first = Trainer(corpus.settings, data, tmp_path / "run", cfg).run()
    assert first["steps"] == 1 and (tmp_path / "run" / "checkpoints" / "step-1" / "state.json").is_file()
    cfg.max_steps = 3
    seen = []
    report = Trainer(corpus.settings, data, tmp_path / "run", cfg).run(seen.append)
    assert [p["step"] for p in seen] == [2, 3]  # resumed after step 1, not from the start
    assert len(report["losses"]) == 3 and report["losses"][:1] == first["losses"]
    assert report["val"][-1]["loss"] < report["val"][0]["loss"]
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()
    assert report["base"]["sha256"] == corpus.registry.entry(SMALL_MODEL)["sha256"] and report["peak_rss_mb"] > 0
