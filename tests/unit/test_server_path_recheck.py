"""Server-side paths are checked again when the worker opens them (issue 19, item 12): a link swapped in after the
202 (for the file, or for a folder above it) is refused, with its reason, and nothing is stored."""

import shutil

import pytest

from ingest.jobs.queue import run_job
from rag.store.jobs import JobStore
from tests.helpers import docgen
from tests.helpers.apps import client, make_app


@pytest.fixture()
def layout(tmp_path):
    """(root allowed, a secret PDF outside it, a PDF inside it under root/sub/)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    secret = docgen.simple_pdf(outside / "secret.pdf", [("Secret", ["The launch code is 4242."])], title="Secret")
    inside = docgen.simple_pdf(root / "sub" / "report.pdf", [("Report", ["Output was 455 GWh."])], title="Report")
    return root, secret, inside


def _queued(tmp_path, root, path):
    app, services = make_app(tmp_path / "data", ingest={"allowed_roots": [str(root)]})
    r = client(app).post("/v1/documents", json={"paths": [str(path)], "collection": "hr"})
    assert r.status_code == 202, r.text
    return services, JobStore(services.kb.store), r.json()["id"]


def _swap_file(root, secret, inside):
    inside.unlink()
    inside.symlink_to(secret)


def _swap_folder(root, secret, inside):
    shutil.rmtree(inside.parent)
    shutil.copy(secret, secret.parent / inside.name)  # outside/report.pdf: the secret under the name queued
    inside.parent.symlink_to(secret.parent)  # root/sub -> outside/


@pytest.mark.parametrize("swap", [_swap_file, _swap_folder])
def test_a_link_swapped_in_after_the_202_is_refused_by_the_worker(tmp_path, layout, swap):
    root, secret, inside = layout
    services, jobs, job_id = _queued(tmp_path, root, inside)
    swap(root, secret, inside)
    assert run_job(services, jobs, job_id, "w", services.settings) == "failed"
    (file,) = jobs.get(job_id).files
    assert file.status == "failed" and f"{inside} has become a link" in file.reason and "\n" not in file.reason
    assert services.kb.store.documents() == [] and services.kb.store.count_chunks() == 0


def test_an_unchanged_server_file_is_still_ingested(tmp_path, layout):
    root, _, inside = layout
    services, jobs, job_id = _queued(tmp_path, root, inside)
    assert run_job(services, jobs, job_id, "w", services.settings) == "done"
    assert [d.name for d in services.kb.store.documents()] == ["report.pdf"]
