"""`GET /v1/info` for a key limited to some collections (issue 19, item 13): counts of those collections only, and
no path of the server (the data directory, model files); the operator without a key scope sees everything."""

import json

from rag.service.access import KeyRing
from tests.helpers.apps import client, make_app, put


def _app(tmp_path, host):
    app, services = make_app(tmp_path / "data", host=host)
    put(services, "hr", "handbook.pdf", ["Annual leave is 30 days for every employee.", "Lunch is at noon."])
    put(services, "finance", "ledger.pdf", ["Annual revenue was 4 million EUR."])
    put(services, "finance", "budget.pdf", ["The travel budget is 2 million EUR."])
    return app, services


def test_a_scoped_key_sees_its_collections_counts_and_no_server_path(tmp_path):
    app, services = _app(tmp_path, "0.0.0.0")
    token = KeyRing(services.kb.store).create(["hr"], "read")[0]
    r = client(app, token).get("/v1/info")
    assert r.status_code == 200
    info = r.json()
    assert info["index"]["documents"] == 1 and info["index"]["chunks"] == 2
    text = json.dumps(info)
    assert str(tmp_path) not in text and "data_dir" not in text
    assert all("path" not in m for m in info["models"])


def test_the_unscoped_operator_sees_the_whole_index_and_the_paths(tmp_path):
    app, _ = _app(tmp_path, "127.0.0.1")
    info = client(app).get("/v1/info").json()
    assert info["index"]["documents"] == 3 and info["index"]["chunks"] == 4
    assert info["settings"]["data_dir"] == str(tmp_path / "data")
