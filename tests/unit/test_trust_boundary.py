"""The browser's trust boundary (issue 19, items 10 and 11): a page on another origin cannot make a browser change
the server's state (upload, delete, cancel), and a name rebound to 127.0.0.1 (DNS rebinding) is not answered.
Nothing is stored by a refused request."""

import pytest
from fastapi.testclient import TestClient

from tests.helpers.apps import make_app, put, stored_state

PDF = ("a.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")


def _app(tmp_path, host="127.0.0.1", **http):
    """An app with the default trust settings (or `http` ones); keys not required on loopback."""
    app, services = make_app(tmp_path / "data", host=host, http=http)
    doc = put(services, "default", "handbook.pdf", ["Annual leave is 30 days for every employee."])
    return app, services, doc


def _refused(r, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    assert words in r.json()["detail"] and "\n" not in r.json()["detail"] and r.headers["x-request-id"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Referer": "https://evil.example/upload.html"},
        {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
    ],
)
def test_a_cross_origin_write_is_refused(tmp_path, headers):
    app, services, doc = _app(tmp_path)
    c = TestClient(app, base_url="http://127.0.0.1:8000")
    before = stored_state(services)
    _refused(c.post("/v1/documents", files=[("files", PDF)], headers=headers), 403, "cross-origin request refused")
    _refused(c.delete(f"/v1/documents/{doc.id}", headers=headers), 403, "RAG_HTTP__ALLOWED_ORIGINS")
    _refused(c.post("/v1/ask", json={"question": "leave?"}, headers=headers), 403, "cross-origin")
    assert stored_state(services) == before
    assert c.get("/v1/documents", headers=headers).status_code == 200  # reads change nothing (and CORS hides them)


def test_same_origin_allowed_origins_and_non_browser_clients_may_write(tmp_path):
    app, services, _ = _app(tmp_path, allowed_origins=["https://app.example"])
    c = TestClient(app, base_url="http://127.0.0.1:8000")
    for headers in (
        {},
        {"Origin": "http://127.0.0.1:8000"},
        {"Origin": "https://app.example"},
        {"Referer": "http://127.0.0.1:8000/ui"},
    ):
        r = c.post("/v1/search", json={"question": "annual leave"}, headers=headers)
        assert r.status_code == 200, (headers, r.text)


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1.nip.io", ""])
def test_a_foreign_host_name_is_not_answered_on_loopback(tmp_path, host):
    app, services, doc = _app(tmp_path)
    c = TestClient(app, base_url="http://127.0.0.1:8000")
    before = stored_state(services)
    _refused(c.get("/v1/documents", headers={"Host": host}), 421, "is not served here (RAG_HTTP__ALLOWED_HOSTS)")
    _refused(c.get(f"/v1/documents/{doc.id}", headers={"Host": host}), 421, "RAG_HTTP__ALLOWED_HOSTS")
    assert stored_state(services) == before


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_loopback_names_are_answered_by_default(tmp_path, host):
    app, _, _ = _app(tmp_path)
    assert TestClient(app).get("/v1/documents", headers={"Host": host}).status_code == 200


def test_configured_host_names_replace_the_default_and_a_keyed_server_answers_any(tmp_path):
    app, _, _ = _app(tmp_path, allowed_hosts=["rag.internal"])
    c = TestClient(app)
    assert c.get("/healthz", headers={"Host": "rag.internal:8000"}).status_code == 200
    assert c.get("/healthz", headers={"Host": "localhost"}).status_code == 421
    keyed, _, _ = _app(tmp_path / "keyed", host="0.0.0.0")  # keys required: a key is the protection
    assert TestClient(keyed).get("/healthz", headers={"Host": "rag.example.org"}).status_code == 200
