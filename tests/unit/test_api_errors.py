"""One error shape (issue 19, items 5-9): every 4xx and 5xx is JSON `{"detail": "one line"}` with the request id;
malformed requests are 422 (never 400, never FastAPI's list `detail`), integers and filters are bounded, a lone
surrogate is refused, an unexpected failure is a JSON 500. Nothing stored changes."""

import pytest

from tests.helpers.apps import client, make_app, put, stored_state


@pytest.fixture()
def api(tmp_path):
    app, services = make_app(tmp_path / "data", max_upload_files=3)
    put(services, "default", "handbook.pdf", ["Annual leave is 30 days for every employee."])

    def stored():
        return stored_state(services)

    return client(app), services, stored


def _one_line_error(r, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json" and r.headers["x-request-id"]
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail, detail


RAW_JSON = [
    # a lone surrogate: valid JSON, not text (the old validation handler failed echoing it: 500)
    ("/v1/ask", '{"question": "\\ud800"}', "lone surrogate"),
    ("/v1/search", '{"question": "leave", "k": "\\ud800"}', "lone surrogate"),
    ("/v1/search", '{"question": "leave", "filters": {"tags": {"\\udfff": "x"}}}', "lone surrogate"),
    ("/v1/documents", '{"paths": ["/x/\\ud800"]}', "lone surrogate"),
    ("/v1/documents", "{not json", "the body is not valid JSON"),
    ("/v1/ask", "{not json", "the body is not valid JSON"),
]


@pytest.mark.parametrize("path,body,words", RAW_JSON)
def test_malformed_json_bodies_are_one_line_422s(api, path, body, words):
    c, _, stored = api
    before = stored()
    r = c.post(path, content=body.encode(), headers={"content-type": "application/json"})
    _one_line_error(r, 422, words)
    assert stored() == before


BOUNDED = [
    ({"question": "leave", "filters": {"page_from": 2**63}}, "filters.page_from: Input should be less than or equal to"),
    ({"question": "leave", "filters": {"page_to": 2**70}}, "filters.page_to: Input should be less than or equal to"),
    (
        {"question": "leave", "filters": {"tags": {f"k{i}": "v" for i in range(1000)}}},
        "filters.tags: Dictionary should have at most 20",
    ),
    ({"question": "leave", "filters": {"docs": [f"d{i}" for i in range(1000)]}}, "filters.docs: List should have at most 100"),
    ({"question": "leave", "k": 2**64}, "k: Input should be less than or equal to 50"),
    ({"question": "   "}, "the question is empty"),
    ({}, "question: Field required"),
    ({"question": "leave", "mode": "poem"}, "mode: Input should be 'generate' or 'extract'"),
]


@pytest.mark.parametrize("route", ["/v1/search", "/v1/ask"])
@pytest.mark.parametrize("body,words", BOUNDED)
def test_out_of_bounds_fields_are_one_line_422s(api, route, body, words):
    c, _, stored = api
    before = stored()
    if route == "/v1/search" and "mode" in body:
        return  # search has no mode
    _one_line_error(c.post(route, json=body), 422, words)
    assert stored() == before


def test_jobs_limit_is_bounded(api):
    c, _, _ = api
    _one_line_error(c.get("/v1/jobs", params={"limit": 2**64}), 422, "limit: Input should be less than or equal to 500")


def test_malformed_uploads_get_the_documented_status(api):
    c, _, stored = api
    before = stored()
    pdf = ("a.pdf", b"%PDF-1.4 not really", "application/pdf")
    _one_line_error(c.post("/v1/documents", data={"collection": "hr"}, files={"x": ("", b"")}), 422, "no files")
    _one_line_error(c.post("/v1/documents", files=[("files", pdf)], data={"collection": "../x"}), 422, "bad collection name")
    _one_line_error(c.post("/v1/documents", files=[("files", pdf)] * 4), 413, "at most 3 files in one upload")
    no_boundary = {"content-type": "multipart/form-data"}
    _one_line_error(c.post("/v1/documents", content=b"--x\r\n", headers=no_boundary), 422, "Missing boundary")
    _one_line_error(c.post("/v1/parse", content=b"--x\r\n", headers=no_boundary), 422, "Missing boundary")
    _one_line_error(c.post("/v1/parse", data={"nofile": "1"}, files={"x": ("", b"")}), 422, "no file")
    _one_line_error(c.post("/v1/documents", content=b"a=1", headers={"content-type": "text/plain"}), 415, "multipart")
    assert stored() == before


def test_framework_errors_keep_their_status_in_the_same_shape(api):
    c, _, _ = api
    _one_line_error(c.get("/v1/nowhere"), 404, "Not Found")
    _one_line_error(c.put("/v1/ask", json={"question": "x"}), 405, "Method Not Allowed")


def test_an_unexpected_failure_is_a_json_500_with_the_request_id(api, monkeypatch):
    c, services, stored = api
    before = stored()

    def broken(*a, **kw):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(services, "search", broken)
    r = c.post("/v1/search", json={"question": "leave"}, headers={"X-Request-ID": "trace-1"})
    _one_line_error(r, 500, "internal error")
    assert r.headers["x-request-id"] == "trace-1" and "a bug" not in r.text
    assert stored() == before
