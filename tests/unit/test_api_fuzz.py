"""Fuzz the REST API from its own OpenAPI schema (schemathesis, a bounded number of examples per operation):
whatever the input, never a 500. Runs on an app with a fake embedder and generator, keys required."""

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
