"""`rag finetune embedder` on the real packaged MiniLM over six small reports: a few training steps on CPU, the
embedder version registered (every file's sha256 verified, data card, eval report), the switch re-embedding into a
new index version (search works, the manifest names the tuned weights), and the rollback to the packaged model."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from rag.models.embedder_versions import EmbedderVersions
from rag.service.services import Services
from tests.helpers.embedder_corpus import put_reports
from tests.helpers.models import MODELS_DIR, make_settings

pytestmark = pytest.mark.slow


def rag(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.stdout


def test_tune_register_switch_and_roll_back(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS_DIR))
    data, out = tmp_path / "data", tmp_path / "run"
    put_reports(Services(make_settings(data)))
    packaged = Services(make_settings(data)).kb.versions.manifest()

    tuned = json.loads(
        rag(
            "--data-dir",
            str(data),
            "finetune",
            "embedder",
            "--out",
            str(out),
            "--name",
            "reports-tuned",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--max-pairs",
            "12",
            "--device",
            "cpu",
            "--use",
            "--json",
        )  # fmt: skip
    )
    # trained and registered: every file's sha256 checks, the data card and the eval report are kept with it
    version = EmbedderVersions(make_settings(data)).get("reports-tuned")
    EmbedderVersions(make_settings(data)).verify(version)
    card = json.loads((version.folder / "data_card.json").read_text())
    assert card["train"] == 12 and len(card["documents"]) == 6 and "no evaluation qrels" in card["evaluation_data"]
    report = json.loads((out / "train_report.json").read_text())
    assert report["steps"] == 3 and report["device"] == "cpu" and report["base_sha256"] == packaged["embedder"]["sha256"]
    before, after = tuned["eval"]["before"], tuned["eval"]["after"]
    assert before["queries"] == after["queries"] > 0 and tuned["eval"]["corpus_chunks"] == 24
    assert before["embedder"]["sha256"] == packaged["embedder"]["sha256"] and after["embedder"]["sha256"] == version.sha256
    assert (out / "pairs.jsonl").is_file() and (out / "model" / "model.safetensors").is_file()

    # switched: a new index version embedded by the tuned weights, searched through their ONNX export
    services = Services(make_settings(data))
    manifest = services.kb.versions.manifest()
    assert manifest["version"] == tuned["switched"]["index_version"] != packaged["version"]
    assert manifest["embedder"]["sha256"] == version.sha256 != packaged["embedder"]["sha256"]
    assert manifest["embedder"]["version"] == "reports-tuned" and manifest["count"] == 24
    hits = services.search("Halden Foods annual report 2023 dividends paid", 3).hits
    assert hits and hits[0].doc.startswith("halden")
    from sentence_transformers import SentenceTransformer

    texts = ["Norvik Ferries safety drills", "Lumo Energy turbines"]
    torch_vecs = SentenceTransformer(str(version.model_dir), device="cpu").encode(texts, normalize_embeddings=True)
    assert services.embedder.backend == "onnx"
    assert np.min(np.sum(services.embedder.embed(texts) * torch_vecs, axis=1)) > 0.9999  # the export is the model
    listed = json.loads(rag("--data-dir", str(data), "models", "list", "--json"))
    assert [v["id"] for v in listed["embedder_versions"] if v["current"]] == ["reports-tuned"]

    # rolled back: re-embedded by the packaged model again
    assert "current embedder version: all-MiniLM-L6-v2" in rag("--data-dir", str(data), "models", "rollback", "--embedder")
    back = Services(make_settings(data))
    assert back.kb.versions.manifest()["embedder"]["sha256"] == packaged["embedder"]["sha256"]
    assert "version" not in back.kb.versions.manifest()["embedder"]
    assert back.search("Lumo Energy staff training hours", 3).hits
