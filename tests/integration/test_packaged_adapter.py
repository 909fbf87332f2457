"""The adapter shipped in rag/models/adapters/: listed, pinned, documented, and served by llama.cpp on the real 0.5B."""

import json

import pytest

from ingest.pipeline import Ingestor
from rag.models.registry import ModelRegistry
from rag.models.versions import ModelVersions
from rag.service.services import Services
from tests.helpers.models import SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow
NEWEST_SMALL = "qwen2.5-coder-0.5b-grounded-v2"  # the newest adapter on the small (test) model


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("packaged"))
    settings.versions_dir = tmp_path_factory.mktemp("packaged-versions")  # this module's own pointer
    versions = ModelVersions(settings, ModelRegistry(settings))
    found = {v.id: v for v in versions.packaged()}
    assert found, "no adapter in rag/models/adapters/"
    return settings, versions, found[NEWEST_SMALL]


def test_every_packaged_adapter_is_pinned_and_documented(packaged):
    _, versions, _ = packaged
    for version in versions.packaged():
        assert version.source == "packaged" and version.id in {v.id for v in versions.list()}
        versions.verify(version)  # base sha256 as the manifest pins it, adapter sha256 as recorded
        card = json.loads(version.data_card.read_text())
        assert card["licence"].startswith("Apache-2.0") and card["examples"] > 100
        report = json.loads(version.eval_report.read_text())
        measured = {(r["set"], r["model"], r["adapter"] is None) for r in report["runs"]}
        for held_out in ("heldout", "financebench"):  # measured against its own base, tuned and not, on both sets
            assert {(held_out, version.base, True), (held_out, version.base, False)} <= measured, version.id
        assert report["verdict"]


def test_llama_cpp_serves_it_and_answers_name_the_version(packaged, docs):
    settings, versions, version = packaged
    assert version.base == SMALL_MODEL
    settings.generator.threads = 2
    versions.use(version.id)
    svc = Services(settings)
    Ingestor(svc).ingest_paths([docs["facts"]])
    answer = svc.ask("Who inspected the harbour crane?")
    assert answer.model.version == version.id and answer.model.adapter_sha256 == version.adapter_sha256
    assert not answer.refused and "Ingrid Solheim" in answer.answer and answer.citations[0].page == 1
    # Measured, not hidden: this adapter refuses questions that name no one, e.g. "How often are crane inspections
    # repeated?" (the base 0.5B answers "every 90 days"); see its eval report and docs/benchmarks.md.
    other = svc.ask("How often are crane inspections repeated?")
    assert other.refused or "90" in other.answer
