"""The REST API's access control on an app with a fake embedder: every /v1 route with no key, a wrong key, a
key of another collection; rights; rate limits; upload limits and names."""

import pytest

from rag.service.access import KeyRing
from tests.helpers.apps import client, make_app, put


@pytest.fixture()
def app_keys(tmp_path):
    app, services = make_app(tmp_path, host="0.0.0.0", auth={"rate_per_min": 1000})
    put(services, "hr", "handbook.pdf", ["Annual leave is 30 days for every employee.", "Lunch is at noon."])
    put(services, "finance", "ledger.pdf", ["Annual revenue was 4 million EUR.", "Secret finance figure 777."])
    ring = KeyRing(services.kb.store)
    keys = {
        "hr_read": ring.create(["hr"], "read")[0],
        "hr_write": ring.create(["hr"], "write")[0],
        "both": ring.create(["hr", "finance"], "read")[0],
    }
    return app, services, keys


ROUTES = [
    ("GET", "/v1/info", None),
    ("GET", "/v1/documents", None),
    ("POST", "/v1/search", {"question": "annual"}),
    ("POST", "/v1/ask", {"question": "annual", "mode": "extract"}),
    ("POST", "/v1/documents", {"paths": ["/tmp"]}),
    ("GET", "/v1/documents/{doc_id}", None),
    ("DELETE", "/v1/documents/{doc_id}", None),
    ("GET", "/v1/documents/{doc_id}/pages", None),
    ("GET", "/v1/documents/{doc_id}/pages/{n}", None),
    ("GET", "/v1/documents/{doc_id}/pages/{n}.png", None),
    ("GET", "/v1/jobs", None),
    ("GET", "/v1/jobs/{job_id}", None),
    ("DELETE", "/v1/jobs/{job_id}", None),
    ("POST", "/v1/conversations", {}),
    ("GET", "/v1/conversations", None),
    ("GET", "/v1/conversations/{conv_id}", None),
    ("DELETE", "/v1/conversations/{conv_id}", None),
    ("POST", "/v1/conversations/{conv_id}/messages", {"question": "annual", "mode": "extract"}),
    ("POST", "/v1/conversations/{conv_id}/messages/{n}/feedback", {"rating": "up"}),
    ("POST", "/v1/feedback", {"rating": "up", "conversation_id": "0123456789abcdef", "message": 1}),
    ("GET", "/v1/feedback", None),
    ("DELETE", "/v1/feedback/{feedback_id}", None),
    ("GET", "/v1/models", None),
    ("GET", "/v1/models/{model}", None),
    ("POST", "/v1/chat/completions", {"model": "hr", "messages": [{"role": "user", "content": "annual"}]}),
]


def test_every_v1_route_is_in_the_checked_list(app_keys):
    app, _, _ = app_keys
    spec = client(app).get("/openapi.json").json()["paths"]
    routes = {(m.upper(), p) for p, ops in spec.items() if p.startswith("/v1") for m in ops}
    assert routes == {(m, p) for m, p, _ in ROUTES} | {("POST", "/v1/parse")}


@pytest.mark.parametrize("method,path,body", ROUTES + [("POST", "/v1/parse", None)])
def test_no_key_or_a_wrong_or_revoked_key_gets_401(app_keys, method, path, body):
    app, services, keys = app_keys
    for name in ("doc_id", "job_id", "conv_id", "feedback_id", "model", "n"):
        path = path.replace("{" + name + "}", "1" if name == "n" else "0123456789abcdef")
    for headers in [
        {},
        {"Authorization": "Bearer rag_nope_nope"},
        {"X-API-Key": "wrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ]:
        r = client(app).request(method, path, json=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert "detail" in r.json() and r.headers["www-authenticate"] == "Bearer"
    ring = KeyRing(services.kb.store)
    token, record = ring.create(["hr"], "write")
    ring.revoke(record["id"])
    assert client(app, token).request(method, path, json=body).status_code == 401


def test_healthz_stays_open(app_keys):
    app, _, _ = app_keys
    assert client(app).get("/healthz").status_code == 200


def test_a_key_sees_only_its_collections(app_keys):
    app, _, keys = app_keys
    hr = client(app, keys["hr_read"])
    assert [d["name"] for d in hr.get("/v1/documents").json()] == ["handbook.pdf"]
    assert hr.get("/v1/documents", params={"collection": "finance"}).status_code == 403
    ledger = client(app, keys["both"]).get("/v1/documents", params={"collection": "finance"}).json()[0]["id"]
    assert hr.get(f"/v1/documents/{ledger}").status_code == 404
    assert client(app, keys["hr_write"]).delete(f"/v1/documents/{ledger}").status_code == 404
    assert client(app, keys["both"]).delete(f"/v1/documents/{ledger}").status_code == 403  # read-only key
    hits = hr.post("/v1/search", json={"question": "annual revenue finance figure", "k": 10}).json()["hits"]
    assert hits and {h["doc"] for h in hits} == {"handbook.pdf"}
    answer = hr.post("/v1/ask", json={"question": "What was the annual revenue?", "mode": "extract"}).json()
    assert "finance" not in str(answer).lower() and "777" not in str(answer)
    for body in [
        {"question": "revenue", "collection": "finance"},
        {"question": "revenue", "filters": {"collection": "finance"}},
        {"question": "revenue", "filters": {"collections": ["hr", "finance"]}},
    ]:
        for path in ("/v1/search", "/v1/ask"):
            r = hr.post(path, json=body)
            assert r.status_code == 403 and "finance" in r.json()["detail"], (path, body, r.text)
    # naming the other collection's document by id or name never reveals it
    r = hr.post("/v1/search", json={"question": "finance", "filters": {"docs": ["ledger.pdf"]}})
    assert r.status_code == 200 and r.json()["hits"] == []
    both = client(app, keys["both"])
    assert sorted(d["name"] for d in both.get("/v1/documents").json()) == ["handbook.pdf", "ledger.pdf"]
    hits = both.post("/v1/search", json={"question": "annual", "k": 10}).json()["hits"]
    assert {h["doc"] for h in hits} == {"handbook.pdf", "ledger.pdf"}


def test_x_api_key_header_works_too(app_keys):
    app, _, keys = app_keys
    r = client(app).get("/v1/documents", headers={"X-API-Key": keys["hr_read"]})
    assert r.status_code == 200 and [d["name"] for d in r.json()] == ["handbook.pdf"]


def test_parse_needs_write_rights_and_upload_names_are_neutralised(app_keys, monkeypatch):
    app, _, keys = app_keys
    files = {"file": ("../../etc/passwd", b"\x00\x01 not a document at all")}
    assert client(app, keys["hr_read"]).post("/v1/parse", files=files).status_code == 403
    r = client(app, keys["hr_write"]).post("/v1/parse", files=files)
    assert r.status_code == 415 and r.json()["detail"].startswith(
        "unsupported file type: passwd (supported: PDF, PNG, JPEG, TIFF, DOCX"
    )


def test_mislabeled_and_oversized_uploads_are_refused(tmp_path):
    app, _ = make_app(tmp_path, max_upload_mb=1, max_upload_files=1)
    c = client(app)  # loopback: no key needed
    r = c.post("/v1/parse", files={"file": ("report.pdf", b"GIF89a" + b"\0" * 100)})
    assert r.status_code == 415 and "unsupported file type" in r.json()["detail"]
    r = c.post("/v1/parse", files={"file": ("big.pdf", b"%PDF-1.4\n" + b"\0" * (1024 * 1024))})
    assert r.status_code == 413 and "larger than 1 MB" in r.json()["detail"]
    r = c.post("/v1/parse", files={"file": ("huge.pdf", b"%PDF-1.4\n" + b"\0" * (3 * 1024 * 1024))})
    assert r.status_code == 413 and "request body larger than" in r.json()["detail"]


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    app, services = make_app(tmp_path, host="0.0.0.0", auth={"rate_per_min": 3})
    token = KeyRing(services.kb.store).create(["hr"])[0]
    c = client(app, token)
    assert [c.get("/v1/documents").status_code for _ in range(3)] == [200, 200, 200]
    r = c.get("/v1/documents")
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 20 and "rate limit" in r.json()["detail"]
    other = KeyRing(services.kb.store).create(["hr"])[0]
    assert client(app, other).get("/v1/documents").status_code == 200  # per key


def test_loopback_without_a_key_sees_everything_but_a_sent_key_still_scopes(tmp_path):
    app, services = make_app(tmp_path, host="127.0.0.1")
    put(services, "hr", "handbook.pdf", ["Annual leave is 30 days."])
    put(services, "finance", "ledger.pdf", ["Annual revenue was 4 million."])
    assert len(client(app).get("/v1/documents").json()) == 2
    token = KeyRing(services.kb.store).create(["hr"])[0]
    assert [d["name"] for d in client(app, token).get("/v1/documents").json()] == ["handbook.pdf"]
    assert client(app, "bogus").get("/v1/documents").status_code == 401
