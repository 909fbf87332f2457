"""Parse limits seen from outside (issue 19, items 1 and 5): `/v1/parse` answers a file over a limit with a one-line
422 and stops when its client goes; a job's file over a limit fails with that reason; cancelling a running job stops
its file between pages. Nothing is stored by any of them."""

import threading

import httpx
import pytest

from ingest.jobs.queue import run_job
from ingest.parse.limits import ParseLimits
from rag.store.jobs import JobStore
from tests.helpers.apps import asgi_call, client, make_app, stored_content, stored_state
from tests.helpers.hostile_files import blank_pdf, png_header_only


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_parse_over_a_limit_is_a_one_line_422_with_the_request_id(tmp_path):
    app, services = make_app(tmp_path / "data", parse={"max_pages": 3})
    before = stored_state(services)
    c = client(app)
    cases = [
        (blank_pdf(tmp_path / "long.pdf", 5), "long.pdf has 5 pages, more than the 3 allowed (RAG_PARSE__MAX_PAGES)"),
        (png_header_only(tmp_path / "bomb.png", 30_000, 30_000), "bomb.png is too large an image to read"),
        (png_header_only(tmp_path / "big.png", 10_000, 10_000), "more than the 40000000 allowed (RAG_PARSE__MAX_RENDER_PIXELS)"),
    ]
    for path, reason in cases:
        r = c.post("/v1/parse", files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 422, r.text
        assert reason in r.json()["detail"] and "\n" not in r.json()["detail"]
        assert r.headers["x-request-id"]
    assert stored_state(services) == before


class WaitingIngestor:
    """Parses until its caller says stop (at most 30 s); records whether it was told."""

    def __init__(self):
        self.stopped = threading.Event()

    def parse(self, path, stop=None):
        for _ in range(3000):
            if stop is not None and stop():
                self.stopped.set()
                from rag.core.errors import Cancelled

                raise Cancelled("parsing stopped")
            threading.Event().wait(0.01)
        raise AssertionError("the parse was never told to stop")


def test_parse_stops_when_the_client_goes(tmp_path):
    app, _ = make_app(tmp_path / "data")
    app.state.ingestor = ingestor = WaitingIngestor()
    request = httpx.Request("POST", "http://testserver/v1/parse", files={"file": ("a.pdf", b"%PDF-1.4 whatever")})
    headers = {"content-type": request.headers["content-type"]}
    sent, _ = asgi_call(app, "POST", "/v1/parse", headers, [request.read()])  # then the client is gone
    assert ingestor.stopped.is_set()
    assert sent[0]["status"] == 499


@pytest.fixture()
def job_of(tmp_path):
    """(services, jobs, job id) of an uploaded job over the files given, not run yet."""

    def make(paths, **settings):
        app, services = make_app(tmp_path / "data", parse={"workers": 1, **settings.pop("parse", {})}, **settings)
        files = [("files", (p.name, p.read_bytes(), "application/pdf")) for p in paths]
        job = client(app).post("/v1/documents", files=files, data={"collection": "hr"}).json()
        return services, JobStore(services.kb.store), job["id"]

    return make


def test_cancelling_a_running_job_stops_its_file_between_pages(tmp_path, job_of, monkeypatch):
    services, jobs, job_id = job_of([blank_pdf(tmp_path / "blank.pdf", 60), blank_pdf(tmp_path / "next.pdf", 2)])
    before = stored_content(services)
    pages_seen = []
    check = ParseLimits.check_time

    def cancel_at_page_5(self, name, page, stop=None):
        pages_seen.append(page)
        if page == 5:
            jobs.cancel(job_id)  # DELETE /v1/jobs/{id} while the worker reads page 5
        return check(self, name, page, stop)

    monkeypatch.setattr(ParseLimits, "check_time", cancel_at_page_5)
    assert run_job(services, jobs, job_id, "w", services.settings) == "cancelled"
    assert max(pages_seen) == 5  # not the 60 pages of the file
    job = jobs.get(job_id)
    assert job.state == "cancelled" and [f.status for f in job.files] == ["cancelled", "cancelled"]
    assert stored_content(services) == before
    assert not (tmp_path / "data" / "uploads" / job_id).exists()


def test_a_job_file_over_the_page_limit_fails_with_that_reason(tmp_path, job_of):
    services, jobs, job_id = job_of([blank_pdf(tmp_path / "long.pdf", 5)], parse={"max_pages": 3})
    before = stored_content(services)
    assert run_job(services, jobs, job_id, "w", services.settings) == "failed"
    (file,) = jobs.get(job_id).files
    assert file.status == "failed" and file.reason == "long.pdf has 5 pages, more than the 3 allowed (RAG_PARSE__MAX_PAGES)"
    assert stored_content(services) == before
