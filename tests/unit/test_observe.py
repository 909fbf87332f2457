"""Request ids, JSON logs, Prometheus metrics and readiness, on an app with a fake embedder."""

import io
import json
import logging
import threading

from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.observe import JsonFormatter, RequestIdFilter
from rag.core.errors import ModelError
from rag.core.types import Answer, Calculation
from tests.helpers.apps import HashEmbedder, client, make_app, put


def test_request_id_is_echoed_or_generated(tmp_path):
    app, _ = make_app(tmp_path)
    c = client(app)
    assert c.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = c.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    bad = c.get("/healthz", headers={"X-Request-ID": "no spaces\tor tabs " + "x" * 200}).headers["x-request-id"]
    assert len(bad) == 32  # an unusable id is replaced, never echoed
    assert c.get("/nope").headers["x-request-id"]


def test_json_access_log_carries_the_request_id(tmp_path):
    app, _ = make_app(tmp_path)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("api.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        client(app).get("/v1/documents", headers={"X-Request-ID": "req-42"})
    finally:
        access.removeHandler(handler)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "req-42" and line["status"] == 200 and line["route"] == "/v1/documents"
    assert line["method"] == "GET" and line["level"] == "INFO" and line["ms"] >= 0


def test_metrics_in_prometheus_text_format(tmp_path):
    app, services = make_app(tmp_path)
    put(services, "hr", "handbook.pdf", ["Annual leave is 30 days.", "Lunch is at noon."])
    c = client(app)
    c.get("/v1/documents")
    c.post("/v1/search", json={"question": "annual leave"})
    c.post("/v1/search", json={"question": ""})
    timings = {"tokens_per_s": 21.5, "completion_tokens": 40, "first_token_ms": 2500.0, "prefill_tokens_per_s": 70.0}
    timings |= {"prompt_fixed_tokens": 300, "prompt_sources_tokens": 420, "prompt_question_tokens": 20}
    app.state.metrics.observe_answer(Answer(answer="x", citations=[], timings_ms=timings | {"prompt_cached_tokens": 290}))
    calc = Calculation(expression="1 [1] + 2 [1]", result=3, text="3", stated="4", replaced=True)
    app.state.metrics.observe_answer(
        Answer(answer="y", citations=[], calculations=[calc, calc.model_copy(update={"replaced": False})])
    )
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'rag_http_request_duration_seconds_count{method="GET",route="/v1/documents",status="200"} 1.0' in text
    assert 'rag_http_request_duration_seconds_count{method="POST",route="/v1/search",status="422"} 1.0' in text
    for line in [
        "rag_ready 1.0",
        "rag_queue_waiting 0.0",
        "rag_queue_admitted 0.0",
        "rag_index_vectors 2.0",
        'rag_documents{status="ok"} 1.0',
        "rag_pages 1.0",
        "rag_chunks 2.0",
        "rag_ingested_pages_total 1.0",
        "rag_ingested_chunks_total 2.0",
        "rag_generated_tokens_total 40.0",
        "rag_generation_tokens_per_second_count 1.0",
        'rag_answer_first_token_seconds_bucket{le="3.0"} 1.0',
        'rag_answer_first_token_seconds_bucket{le="2.0"} 0.0',
        "rag_generation_prefill_tokens_per_second_sum 70.0",
        'rag_prompt_tokens_sum{part="fixed"} 300.0',
        'rag_prompt_tokens_sum{part="sources"} 420.0',
        'rag_prompt_tokens_sum{part="question"} 20.0',
        'rag_prompt_tokens_sum{part="cached"} 290.0',
        'rag_calculations_total{outcome="kept"} 2.0',
        'rag_calculations_total{outcome="replaced"} 1.0',
    ]:
        assert line in text, line
    assert int(_value(text, "rag_index_bytes")) > 0


def _value(text: str, name: str) -> float:
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))


def _app_with_warm_up(tmp_path, warm_up):
    app, services = make_app(tmp_path)
    services.warm_up = warm_up
    return create_app(warm_up=True, host="127.0.0.1", services=services)


def test_readyz_is_503_until_warm_up_is_done(tmp_path):
    release = threading.Event()
    app = _app_with_warm_up(tmp_path, lambda: release.wait(30))
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and "loading" in r.json()["detail"]
        release.set()
        app.state.readiness.event.wait(10)
        assert c.get("/readyz").status_code == 200


def test_failed_warm_up_is_reported_by_readyz_and_by_requests_needing_models(tmp_path):
    def broken():
        raise ModelError("model qwen is missing: run `rag models fetch`")

    app = _app_with_warm_up(tmp_path, broken)
    with TestClient(app) as c:
        app.state.readiness.event.wait(10)
        r = c.get("/readyz")
        assert r.status_code == 503 and "rag models fetch" in r.json()["detail"]
        r = c.post("/v1/search", json={"question": "x"})
        assert r.status_code == 503 and "rag models fetch" in r.json()["detail"]
        assert c.get("/v1/documents").status_code == 200  # what needs no model still works
        assert "rag_ready 0.0" in c.get("/metrics").text


assert HashEmbedder  # the fake embedder is what make_app uses


def test_the_key_is_checked_before_waiting_for_the_warm_up(tmp_path):
    release = threading.Event()
    app, services = make_app(tmp_path, host="0.0.0.0")
    services.warm_up = lambda: release.wait(30)
    app = create_app(warm_up=True, host="0.0.0.0", services=services)
    with TestClient(app) as c:
        r = c.post("/v1/search", json={"question": "x"})
        assert r.status_code == 401  # at once, not after the warm-up wait
        release.set()
