"""Bodies counted as they arrive (issue 19, item 4): a chunked upload (no Content-Length) past its limit is refused
at the limit, not after being spooled in full; nothing is stored."""

import httpx

from api.http.uploads import JSON_LIMIT, MB
from tests.helpers.apps import asgi_call, make_app, stored_state

CHUNK = 64 * 1024


def _multipart(name: str, size: int) -> tuple[dict, list[bytes]]:
    """(headers, body chunks) of a multipart upload of one file of `size` bytes, sent chunked."""
    request = httpx.Request("POST", "http://testserver/", files={"files": (name, b"%PDF-1.4\n" + b"0" * size)})
    body = request.read()
    return {"content-type": request.headers["content-type"]}, [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


def _answer(sent: list[dict]) -> tuple[int, bytes]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_chunked_upload_stops_at_the_file_limit(tmp_path):
    app, services = make_app(tmp_path / "data", max_upload_mb=1)
    before = stored_state(services)
    for path in ("/v1/documents", "/v1/parse"):
        headers, chunks = _multipart("big.pdf", 20 * MB)
        sent, read = asgi_call(app, "POST", path, headers, chunks)
        status, body = _answer(sent)
        assert status == 413 and b'"big.pdf: larger than 1 MB"' in body, body
        assert len(read) * CHUNK < 2 * MB  # of the 20 MB sent: the old parser spooled all of it first
    assert stored_state(services) == before


def test_a_chunked_json_body_stops_at_its_limit(tmp_path):
    app, _ = make_app(tmp_path / "data")
    chunks = (b"x" * MB for _ in range(64))
    sent, read = asgi_call(app, "POST", "/v1/ask", {"content-type": "application/json"}, chunks)
    status, body = _answer(sent)
    assert status == 413 and b"request body larger than 16 MB" in body
    assert len(read) * MB <= JSON_LIMIT + MB  # of the 64 MB sent


def test_a_declared_length_over_the_limit_is_refused_unread(tmp_path):
    app, _ = make_app(tmp_path / "data", max_upload_mb=1, max_upload_files=1)
    headers, chunks = _multipart("big.pdf", 5 * MB)
    sent, read = asgi_call(app, "POST", "/v1/documents", dict(headers, **{"content-length": str(5 * MB + 500)}), chunks)
    assert _answer(sent)[0] == 413 and read == []
