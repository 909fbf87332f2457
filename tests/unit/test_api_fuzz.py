"""Fuzz the REST API from its own OpenAPI schema (schemathesis, a bounded number of examples per operation):
whatever the input, never a 500. Runs on an app with a fake embedder and generator, keys required."""

import json
import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from rag.service.access import KeyRing  # noqa: E402
from tests.helpers.apps import make_app, put  # noqa: E402

EXAMPLES = int(os.environ.get("RAG_FUZZ_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """(app, key): an app on a fake embedder and generator, keys required, one document, a write key."""
    data = tmp_path_factory.mktemp("fuzz")
    root = data / "docs"
    root.mkdir()
    app, services = make_app(data / "data", host="0.0.0.0", auth={"rate_per_min": 0}, ingest={"allowed_roots": [str(root)]})
    put(services, "default", "handbook.pdf", ["Annual leave is 30 days for every employee.", "Lunch is at noon."])
    return app, KeyRing(services.kb.store).create(["default", "hr"], "write")[0]


def test_no_input_makes_the_api_fail_with_500(fuzzed):
    """Every operation of the app's own schema, EXAMPLES generated cases each (built here, not at import)."""
    app, key = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        @given(case=operation.as_strategy())
        def call(case):
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])

        call()


def test_large_integers_surrogates_and_deep_filters_never_make_a_500(fuzzed):
    """What the schema alone does not generate: integers past SQLite's 64 bits, lone surrogates in every string,
    filters with thousands of tags and names. Each must be a 4xx (or a 200 where it is harmless)."""
    from hypothesis import strategies as st
    from starlette.testclient import TestClient

    app, key = fuzzed
    c = TestClient(app, headers={"Authorization": f"Bearer {key}"}, raise_server_exceptions=False)
    huge = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**80), st.integers(max_value=-(2**62)))
    text = st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), min_size=1, max_size=5) | st.text(max_size=5)
    filters = st.fixed_dictionaries(
        {},
        optional={
            "page_from": huge,
            "page_to": huge,
            "tags": st.dictionaries(text, text, max_size=2000),
            "docs": st.lists(text, max_size=2000),
            "collections": st.lists(text, max_size=300),
            "collection": text,
        },
    )
    body = st.fixed_dictionaries({"question": text}, optional={"k": huge, "filters": filters, "collection": text})

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(route=st.sampled_from(["/v1/search", "/v1/ask", "/v1/documents"]), body=body, limit=huge)
    def call(route, body, limit):
        if route == "/v1/documents":
            body = {"paths": [body["question"]], "collection": body.get("collection", "default")}
        raw = json.dumps(body)  # ensure_ascii: a lone surrogate travels as its \\u escape, as an attacker sends it
        r = c.post(route, content=raw, headers={"content-type": "application/json"})
        assert r.status_code < 500, (route, raw[:300], r.status_code, r.text[:300])
        assert isinstance(r.json().get("detail", ""), str)
        assert c.get("/v1/jobs", params={"limit": limit}).status_code < 500

    call()
