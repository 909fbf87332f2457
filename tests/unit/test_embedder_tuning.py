"""Tuning the embedder on the corpus, without model weights: the training pairs (rules, positives as indexed, hard
negatives from other documents, held-out split, teacher questions, refusals), the batches, the embedder versions
(register, sha256 checks, use, rollback) and the blue/green switch of Services on a fake embedder."""

import builtins
import json
from pathlib import Path

import pytest

from rag.core.errors import BadInput, HashMismatch, IndexMismatch, NotFound
from rag.core.hashing import sha256_tree
from rag.core.settings import Settings
from rag.finetune.embedder_pairs import PairConfig, PairMaker
from rag.finetune.embedder_train import distinct_batches
from rag.models.embedder_versions import EmbedderVersion, EmbedderVersions
from rag.retrieval.embedder import SentenceTransformerEmbedder
from rag.retrieval.knowledge_base import embed_text
from rag.service.services import Services
from tests.helpers.apps import HashEmbedder
from tests.helpers.embedder_corpus import put_reports

BASE = "all-MiniLM-L6-v2"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", versions_dir=tmp_path / "versions")


@pytest.fixture
def services(settings) -> Services:
    s = Services(settings)
    s.__dict__["embedder"] = HashEmbedder()
    return s


@pytest.fixture
def reports(services):
    return put_reports(services)


# ---- pairs -----------------------------------------------------------------------------------------------------
def test_pairs_come_from_headings_table_rows_and_profiles_with_the_chunk_as_indexed(services, reports):
    data = PairMaker(services.kb, PairConfig(seed=0)).run()
    by_query = {p.query: p for p in data.pairs}
    safety = by_query["What does Norvik Ferries annual report 2022 say about Safety?"]
    row = by_query["Halden Foods annual report 2023 Purchases of ovens"]
    title = by_query["Lumo Energy Annual Report 2022"]
    assert (safety.rule, row.rule, title.rule) == ("heading", "table_row", "profile")
    rows = services.kb.store.chunks_by_vid([safety.vid, row.vid, title.vid])
    assert safety.positive == embed_text("Safety", rows[safety.vid]["text"], "Norvik Ferries · annual report · 2022")
    assert rows[row.vid]["heading"] == "Cash flows" and rows[title.vid]["heading"] == "Overview"
    assert set(data.card["per_rule"]) == {"heading", "table_row", "profile", "teacher"}
    # 6 reports x (4 headings + 3 rows + 1 title), none ambiguous
    assert len(data.pairs) == 48 and data.card["removed"] == {}


def test_a_title_leads_to_the_opening_passage_without_the_title_line(services):
    from tests.helpers.apps import put

    intro = "Tidal locks of the inner harbour\nThe harbour locks were rebuilt in 2019 after the storm surge of the winter."
    put(services, "default", "4983", [intro, "Lock gates now close in four minutes and hold a surge of three metres."])
    put(services, "default", "5120", ["Ferry timetables of the outer islands\nBoats leave every hour from the pier at dawn."])
    pairs = {p.query: p for p in PairMaker(services.kb, PairConfig()).run().pairs}
    locks = pairs["Tidal locks of the inner harbour"]
    assert services.kb.store.chunks_by_vid([locks.vid])[locks.vid]["text"] == intro  # the chunk that opens the document
    assert locks.positive.endswith("The harbour locks were rebuilt in 2019 after the storm surge of the winter.")
    assert "Tidal locks" not in locks.positive  # not the line the question repeats word for word
    assert "Ferry timetables of the outer islands" in pairs  # its one chunk, less its title, is still a passage


def test_a_chunk_as_close_as_the_positive_is_not_taken_as_its_negative(services):
    from tests.helpers.apps import put

    passage = "The harbour locks were rebuilt in 2019 after the storm surge of the winter, with new steel gates."
    put(services, "default", "a", [f"Tidal locks of the inner harbour\n{passage}"])
    put(services, "default", "b", [f"{passage} The works were paid by the port."])  # says the same: an answer too
    put(services, "default", "c", ["Ferry timetables of the outer islands\nBoats leave every hour from the pier at dawn."])

    def negative_of_the_title(margin: float) -> str:
        pairs = {p.query: p for p in PairMaker(services.kb, PairConfig(negative_margin=margin)).run().pairs}
        locks = pairs["Tidal locks of the inner harbour"]
        assert locks.negative_vid is not None
        return services.kb.store.chunks_by_vid([locks.negative_vid])[locks.negative_vid]["doc_name"]

    assert negative_of_the_title(0.95) == "c"
    assert negative_of_the_title(10.0) == "b"  # without the margin, the other answer would be trained away


def test_each_pair_has_a_near_miss_from_another_document(services, reports):
    data = PairMaker(services.kb, PairConfig(seed=0)).run()
    negatives = services.kb.store.chunks_by_vid([p.negative_vid for p in data.pairs if p.negative_vid is not None])
    assert all(p.negative and p.negative != p.positive for p in data.pairs)
    assert all(negatives[p.negative_vid]["doc_id"] != p.doc_id for p in data.pairs if p.negative_vid is not None)
    assert data.card["negatives"].get("hard", 0) == len(data.pairs)  # the index had candidates for every question


def test_the_positive_is_the_plain_chunk_when_chunk_context_is_off(settings):
    services = Services(settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"chunk_context": False})}))
    services.__dict__["embedder"] = HashEmbedder()
    put_reports(services)
    pair = next(p for p in PairMaker(services.kb, PairConfig()).run().pairs if p.rule == "heading")
    row = services.kb.store.chunks_by_vid([pair.vid])[pair.vid]
    assert pair.positive == embed_text(row["heading"], row["text"])  # what the index embedded: no label


def test_held_out_pairs_are_on_their_own_side_and_max_pairs_caps_training(services, reports):
    data = PairMaker(services.kb, PairConfig(seed=1, max_pairs=10)).run()
    assert len(data.train) == 10 and data.heldout
    assert data.card["train"] == 10 and data.card["heldout"] == len(data.heldout)
    assert data.card["heldout_by"] == "pair"  # fewer than 10 documents
    assert set(data.corpus) == set(services.kb.store.all_vids())


def test_a_question_made_for_two_chunks_is_dropped(services):
    from rag.core.types import DocumentProfile
    from tests.helpers.apps import put

    same = DocumentProfile(title="Yearly Report Summary")
    put(services, "default", "a.pdf", ["Item | 2023\nTotal revenue | 5\nTotal cost | 3"], same)
    put(services, "default", "b.pdf", ["Item | 2023\nTotal revenue | 7\nTotal cost | 4"], same)
    put(services, "default", "c.pdf", ["Item | 2023\nTotal revenue | 9\nTotal cost | 1"], DocumentProfile(title="Other Report"))
    data = PairMaker(services.kb, PairConfig(min_chunk_words=1)).run()
    assert sorted(p.query for p in data.pairs) == ["Other Report", "Other Report Total cost", "Other Report Total revenue"]
    assert data.card["removed"] == {"ambiguous": 6}  # two rows and the title, for two documents each


def test_an_empty_store_says_so_in_one_line(services):
    with pytest.raises(BadInput) as caught:
        PairMaker(services.kb, PairConfig()).run()
    assert "nothing to train the embedder on" in caught.value.message and "\n" not in caught.value.message


def test_the_command_on_an_empty_store_exits_with_one_line(tmp_path, monkeypatch, capsys):
    import sys

    from api.cli import main

    argv = ["rag", "--data-dir", str(tmp_path / "empty"), "finetune", "embedder", "--out", str(tmp_path / "run")]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as code:
        main()
    assert code.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: nothing to train the embedder on: the store holds no chunks (ingest documents first)"
    ]
    assert not (tmp_path / "run").exists()


def teacher_example(question: str, split: str, sources: list[str], target: str = "It is so [2].") -> dict:
    return {
        "id": "x",
        "kind": "fact",
        "question": question,
        "target": target,
        "answer": "It is so.",
        "answerable": True,
        "sources": [{"chunk_id": c, "doc": "d", "page": 1} for c in sources],
        "split": split,
    }


def test_teacher_questions_come_from_the_train_split_and_cite_their_positive(services, reports, tmp_path):
    rows = services.kb.store.chunks_by_vid(services.kb.store.all_vids())
    first, second = sorted(rows.values(), key=lambda r: r["vid"])[:2]
    path = tmp_path / "train.jsonl"
    records = [
        teacher_example("How many drills did the ferries hold?", "train", [first["id"], second["id"]]),
        teacher_example("Which board approved the plan?", "val", [first["id"]], "Yes [1]."),
        teacher_example("Is it gone?", "train", ["no-such-chunk", second["id"]], "Yes [1]."),
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    data = PairMaker(services.kb, PairConfig(), questions=path).run()
    taught = [p for p in data.pairs if p.rule == "teacher"]
    assert [(p.query, p.vid) for p in taught] == [("How many drills did the ferries hold?", second["vid"])]
    assert data.card["teacher_questions"]["skipped"] == {"not_train_split": 1, "chunk_not_in_store": 1}
    assert "no evaluation qrels" in data.card["evaluation_data"]


@pytest.mark.parametrize("name", ["qrels.jsonl", "train-qrels.tsv", "questions.jsonl", "heldout_questions.jsonl", "test.jsonl"])
def test_evaluation_files_are_refused_unread(services, reports, tmp_path, name):
    path = tmp_path / name
    path.write_text("this file must not be read\n")
    with pytest.raises(BadInput, match="never evaluation"):
        PairMaker(services.kb, PairConfig(), questions=path).run()


def test_a_file_that_is_not_a_finetune_data_set_is_refused(services, reports, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"question": "What is it?", "answer": "x", "doc": "a.pdf", "page": 1}) + "\n")
    with pytest.raises(BadInput, match="not a `rag finetune data` example"):
        PairMaker(services.kb, PairConfig(), questions=path).run()


def test_making_pairs_opens_no_file(services, reports, monkeypatch):
    opened: list[str] = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: opened.append(str(f)) or real_open(f, *a, **k))
    PairMaker(services.kb, PairConfig()).run()
    assert not [f for f in opened if "qrels" in f or f.endswith(".jsonl") or f.endswith(".tsv")]


def test_a_hard_negative_needs_the_index_of_the_current_embedder(settings, reports):
    other = Services(settings)
    other.__dict__["embedder"] = type("Other", (HashEmbedder,), {"sha256": "1" * 64})()
    with pytest.raises(IndexMismatch, match="rag index rebuild"):
        PairMaker(other.kb, PairConfig()).run()


def test_the_eval_report_scores_the_held_out_pairs_with_both_embedders(services, reports):
    from rag.finetune.embedder_train import heldout_recall

    data = PairMaker(services.kb, PairConfig(seed=0)).run()

    class Blind(HashEmbedder):
        name = "blind"

        def embed(self, texts):
            return super().embed(["same text"] * len(texts))

    report = heldout_recall(HashEmbedder(), Blind(), data)
    assert report["heldout_pairs"] == len(data.heldout) > 0 and report["corpus_chunks"] == 24
    assert report["before"]["recall@10"] >= report["after"]["recall@10"]
    assert report["after"]["embedder"]["name"] == "blind" and "no evaluation qrels" in report["evaluation_data"]
    capped = heldout_recall(HashEmbedder(), HashEmbedder(), data, eval_chunks=5)
    assert capped["corpus_chunks"] == 5 and capped["before"]["recall@10"] == 1.0  # the positives stay in


# ---- batches ---------------------------------------------------------------------------------------------------
def test_distinct_batches_never_put_one_text_twice_in_a_batch():
    texts = [["q1", "A", "B"], ["q2", "B", "C"], ["q3", "C", "A"], ["q4", "D", "E"], ["q5", "a ", "F"], ["q6", "G", "H"]]
    batches = distinct_batches(texts, list(range(len(texts))), 3)
    for batch in batches:
        keys = [t.strip().lower() for i in batch for t in texts[i]]
        assert len(keys) == len(set(keys))
    assert sum(len(b) for b in batches) >= 5 and all(len(b) >= 2 for b in batches)


# ---- embedder versions -----------------------------------------------------------------------------------------
def fake_tuned(tmp_path: Path, tag: str = "a") -> tuple[Path, Path]:
    """A sentence-transformers-looking folder and an ONNX export record made from it (no real weights)."""
    model = tmp_path / f"model-{tag}"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "model.safetensors").write_bytes(f"weights {tag}".encode())
    (model / "1_Pooling" / "config.json").write_text("{}")
    onnx = tmp_path / f"onnx-{tag}"
    onnx.mkdir()
    (onnx / "model.onnx").write_bytes(f"onnx {tag}".encode())
    (onnx / "export.json").write_text(json.dumps({"source_sha256": sha256_tree(model), "onnx_sha256": "x"}))
    return model, onnx


def register(versions: EmbedderVersions, tmp_path: Path, version_id: str) -> EmbedderVersion:
    model, onnx = fake_tuned(tmp_path, version_id)
    return versions.register(version_id, BASE, model, onnx, {"pairs": 3}, {"before": {}, "after": {}}, notes="test")


def test_a_registered_version_pins_every_file_and_is_refused_when_one_changes(settings, tmp_path):
    versions = EmbedderVersions(settings)
    v = register(versions, tmp_path, "tuned-1")
    record = json.loads((v.folder / "embedder.json").read_text())
    assert set(record["files"]) == {
        "model/model.safetensors",
        "model/1_Pooling/config.json",
        "onnx/model.onnx",
        "onnx/export.json",
        "data_card.json",
        "eval_report.json",
    }
    assert record["sha256"] == sha256_tree(v.model_dir) and record["base"] == BASE and record["created_at"]
    assert json.loads((v.folder / "data_card.json").read_text()) == {"pairs": 3}
    assert versions.verify(v) is v
    (v.model_dir / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(HashMismatch, match="model.safetensors"):
        versions.verify(v)


def test_an_unrecorded_file_is_refused_and_ids_are_never_reused(settings, tmp_path):
    versions = EmbedderVersions(settings)
    v = register(versions, tmp_path, "tuned-1")
    (v.folder / "extra.bin").write_bytes(b"?")
    with pytest.raises(HashMismatch, match="unrecorded"):
        versions.verify(v)
    with pytest.raises(BadInput, match="exists already"):
        register(versions, tmp_path / "again", "tuned-1")
    with pytest.raises(BadInput, match="exists already"):
        versions.check_new_id(BASE)


def test_an_export_of_another_folder_is_refused(settings, tmp_path):
    model, _ = fake_tuned(tmp_path, "a")
    _, onnx = fake_tuned(tmp_path, "b")
    with pytest.raises(HashMismatch, match="not made from"):
        EmbedderVersions(settings).register("x", BASE, model, onnx, {}, {})


def test_use_and_rollback_move_the_pointer_and_the_settings_decide_first(settings, tmp_path):
    versions = EmbedderVersions(settings)
    register(versions, tmp_path, "tuned-1")
    register(versions, tmp_path, "tuned-2")
    assert versions.current().id == BASE and versions.current().source == "builtin"
    assert [v.id for v in versions.list()] == [BASE, "tuned-1", "tuned-2"]
    with pytest.raises(BadInput, match="no earlier embedder version"):
        versions.rollback()
    versions.use("tuned-1")
    versions.use("tuned-2")
    assert versions.current().id == "tuned-2" and versions.state()["history"] == [None, "tuned-1"]
    assert versions.rollback().id == "tuned-1"
    assert versions.rollback().id == BASE and versions.state() == {"version": None, "history": []}
    with pytest.raises(NotFound):
        versions.use("nope")
    pinned = settings.model_copy(update={"embedder": settings.embedder.model_copy(update={"version": "tuned-2"})})
    assert EmbedderVersions(pinned).current().id == "tuned-2"  # RAG_EMBEDDER__VERSION, until a `use`


def test_the_serving_embedder_of_a_version_carries_its_sha256_and_refuses_changed_weights(settings, tmp_path):
    versions = EmbedderVersions(settings)
    v = register(versions, tmp_path, "tuned-1")
    cfg = settings.embedder.model_copy(update={"backend": "onnx"})
    embedder = SentenceTransformerEmbedder(cfg, versions.registry, v)
    assert embedder.identity() == {"name": BASE, "sha256": v.sha256, "backend": "onnx", "version": "tuned-1"}
    (v.model_dir / "model.safetensors").write_bytes(b"changed")
    with pytest.raises(HashMismatch, match="refusing to load it"):
        SentenceTransformerEmbedder(cfg, versions.registry, v).identity()


# ---- the blue/green switch -------------------------------------------------------------------------------------
class VersionedHashEmbedder(HashEmbedder):
    """The hash embedder standing for one embedder version (its identity carries the version's sha256)."""

    def __init__(self, version: EmbedderVersion):
        self.version = version
        self.sha256 = version.sha256

    def identity(self) -> dict:
        return {"name": self.version.base, "sha256": self.sha256, "backend": "hash"}


@pytest.fixture
def versioned(settings, monkeypatch):
    monkeypatch.setattr(Services, "make_embedder", lambda self, version: VersionedHashEmbedder(version))
    return Services(settings)


def test_switching_re_embeds_into_a_new_index_version_and_rollback_returns(versioned, settings, tmp_path):
    put_reports(versioned)
    server = Services(settings)  # another process, already serving the packaged embedder
    assert server.search("Norvik Ferries safety drills").hits
    held = server.kb  # a request in flight holds this one
    before = versioned.kb.versions.manifest()
    tuned = register(versioned.embedder_versions, tmp_path, "tuned-1")

    result = versioned.use_embedder("tuned-1")
    after = versioned.kb.versions.manifest()
    assert after["version"] != before["version"] and result["index_version"] == after["version"]
    assert after["embedder"]["sha256"] == tuned.sha256 != before["embedder"]["sha256"]
    assert result["index"]["vectors"] == 24 and versioned.search("Halden Foods ovens").hits
    with pytest.raises(IndexMismatch):  # the old embedder never searches the new vectors
        held.search("Norvik Ferries safety drills", 3)
    assert server.kb.embedder.version.id == "tuned-1"  # the server follows the pointer at its next use
    assert server.search("Norvik Ferries safety drills").hits

    back = versioned.rollback_embedder()
    assert back["version"]["id"] == BASE
    assert versioned.kb.versions.manifest()["embedder"]["sha256"] == before["embedder"]["sha256"]
    assert server.kb.embedder.version.source == "builtin" and server.search("Halden Foods ovens").hits


def test_a_tampered_version_is_refused_before_anything_is_re_embedded(versioned, tmp_path):
    put_reports(versioned)
    tuned = register(versioned.embedder_versions, tmp_path, "tuned-1")
    published = versioned.kb.versions.manifest()["version"]
    (tuned.onnx_dir / "model.onnx").write_bytes(b"swapped")
    with pytest.raises(HashMismatch):
        versioned.use_embedder("tuned-1")
    assert versioned.kb.versions.manifest()["version"] == published
    assert versioned.embedder_versions.current().id == BASE
