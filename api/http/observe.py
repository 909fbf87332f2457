"""Observability at the edge: request ids, text or JSON logs, Prometheus metrics, readiness.

Every request gets an id (its `X-Request-ID` when it sends a sane one, else a new one), echoed in the response
and carried by every log line written while it runs. `/metrics` is the Prometheus text format: request latency
by route, method and status; generation speed; and, read at scrape time from the store, the index and the
gate, what is stored, what was ever ingested (by any process), the queue and the jobs.
"""

import contextvars
import json
import logging
import re
import threading
import time
import uuid

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from api.http.errors import error_response
from rag.core.errors import Busy, ModelError, RagError

log = logging.getLogger("api.access")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_FIELDS = ("method", "path", "route", "status", "ms", "key_id", "client")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, the access fields when present, exc."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        out.update({k: getattr(record, k) for k in _FIELDS if hasattr(record, k)})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Root logging for the server: `text` or `json` lines on stderr, each with the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # our access line (with the request id) replaces it


class Readiness:
    """Set once the models and the index are loaded (or warm-up failed, with its error)."""

    def __init__(self):
        self.event = threading.Event()
        self.error: RagError | None = None

    def run(self, warm_up) -> None:
        try:
            warm_up()
        except RagError as exc:
            self.error = exc
            log.error("warm-up failed: %s", exc.message)
        except Exception as exc:  # noqa: BLE001 - reported by /readyz and to every request that needs models
            self.error = ModelError(f"warm-up failed: {type(exc).__name__}: {exc}")
            log.exception("warm-up failed")
        finally:
            self.event.set()

    @property
    def ready(self) -> bool:
        return self.event.is_set() and self.error is None

    def wait(self, timeout_s: float) -> None:
        """Block until warm-up is over; its error, or `Busy` (503, Retry-After) if it takes longer than `timeout_s`."""
        if not self.event.wait(timeout_s):
            raise Busy("the service is still loading its models and index", retry_after=5)
        if self.error is not None:
            raise self.error


class Metrics:
    """The app's own Prometheus registry (one per app, so several apps can live in one process)."""

    def __init__(self, services, gate, readiness: Readiness):
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "rag_http_request_duration_seconds",
            "HTTP request latency (to the response head)",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.tokens_per_s = Histogram(
            "rag_generation_tokens_per_second",
            "Decoding speed of each generation",
            registry=self.registry,
            buckets=(1, 2, 5, 10, 15, 20, 30, 50, 100, 200, 500),
        )
        self.tokens = Counter("rag_generated_tokens", "Tokens generated", registry=self.registry)
        self.first_token = Histogram(
            "rag_answer_first_token_seconds",
            "Time from the question to the answer's first token (retrieval and prefill)",
            registry=self.registry,
            buckets=(0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 60),
        )
        self.prefill = Histogram(
            "rag_generation_prefill_tokens_per_second",
            "Prompt evaluation speed of each generation (tokens evaluated, reused ones not counted)",
            registry=self.registry,
            buckets=(10, 20, 40, 60, 80, 120, 160, 240, 320, 500, 1000, 5000),
        )
        self.prompt_tokens = Histogram(
            "rag_prompt_tokens",
            "Prompt tokens of each answer by part: fixed (rules, examples), sources, question, cached (reused)",
            ["part"],
            registry=self.registry,
            buckets=(8, 16, 32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 4096),
        )
        self.calculations = Counter(
            "rag_calculations",
            "Calculations kept in answers (computed by the service); replaced: the model's own result differed",
            ["outcome"],
            registry=self.registry,
        )
        self.registry.register(StateCollector(services, gate, readiness))

    def observe_answer(self, answer) -> None:
        t = answer.timings_ms or {}
        if t.get("tokens_per_s"):
            self.tokens_per_s.observe(t["tokens_per_s"])
        self.tokens.inc(t.get("completion_tokens", 0) + t.get("summary_completion_tokens", 0))
        if t.get("first_token_ms"):
            self.first_token.observe(t["first_token_ms"] / 1000)
        if t.get("prefill_tokens_per_s"):
            self.prefill.observe(t["prefill_tokens_per_s"])
        for part in ("fixed", "sources", "question", "cached"):
            key = "prompt_cached_tokens" if part == "cached" else f"prompt_{part}_tokens"
            if key in t:
                self.prompt_tokens.labels(part).observe(t[key])
        for calc in answer.calculations:
            self.calculations.labels("kept").inc()
            if calc.replaced:
                self.calculations.labels("replaced").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StateCollector:
    """Gauges and counters read when Prometheus scrapes: queue, readiness, index, store totals, jobs."""

    def __init__(self, services, gate, readiness: Readiness):
        self.services, self.gate, self.readiness = services, gate, readiness

    def collect(self):
        yield _gauge("rag_ready", "1 once models and index are loaded", int(self.readiness.ready))
        yield _gauge("rag_queue_admitted", "Answer requests admitted (running or waiting)", self.gate.admitted)
        yield _gauge("rag_queue_waiting", "Answer requests waiting for a generation slot", self.gate.waiting)
        yield _gauge("rag_queue_slots", "Generations allowed at once", self.gate.slots)
        try:
            kb = self.services.kb
            manifest = kb.versions.manifest()
            folder = kb.versions.current()
            yield _gauge("rag_index_vectors", "Vectors in the live index version", manifest.get("count", 0))
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder else 0
            yield _gauge("rag_index_bytes", "Bytes on disk of the live index version", size)
            totals = kb.store.totals()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the store is busy
            log.exception("metrics: could not read the store")
            return
        docs = GaugeMetricFamily("rag_documents", "Stored documents by status", labels=["status"])
        for status, n in sorted(totals["documents"].items()):
            docs.add_metric([status], n)
        yield docs
        yield _gauge("rag_pages", "Pages of the stored documents", totals["pages"])
        yield _gauge("rag_chunks", "Chunks stored (and indexed)", totals["chunks"])
        for what in ("documents", "pages", "chunks"):
            yield CounterMetricFamily(
                f"rag_ingested_{what}",
                f"{what.capitalize()} ever ingested, by any process",
                value=totals["counters"].get(f"{what}_ingested", 0),
            )
        yield from self.job_metrics()

    def job_metrics(self):
        from rag.store.jobs import JobStore

        family = GaugeMetricFamily("rag_jobs", "Ingestion jobs by state", labels=["state"])
        for state, n in JobStore(self.services.kb.store).by_state().items():
            family.add_metric([state], n)
        return [family]


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class ObserveMiddleware:
    """Pure ASGI (streams and disconnects pass straight through): request id, latency metric, access log line."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        t0 = time.perf_counter()
        state = {"status": 500, "elapsed": None}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                state["status"], state["elapsed"] = message["status"], time.perf_counter() - t0
                message = dict(message, headers=[*message.get("headers", []), (b"x-request-id", rid.encode())])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # noqa: BLE001 - a bug must still answer in the one error shape, with the request id
            log.exception("unhandled error serving %s %s", scope["method"], scope["path"])
            if state["elapsed"] is None:  # nothing sent yet
                await error_response(500, "internal error")(scope, receive, send_with_id)
        finally:
            elapsed = state["elapsed"] if state["elapsed"] is not None else time.perf_counter() - t0
            status, method, path = state["status"], scope["method"], scope["path"]
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(route, method, str(status)).observe(elapsed)
            client = scope.get("client")
            log.info(
                "%s %s %d %.1f ms",
                method,
                path,
                status,
                elapsed * 1000,
                extra={
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 1),
                    "key_id": (scope.get("state") or {}).get("key_id"),
                    "client": client[0] if client else None,
                },
            )
            request_id.reset(token)


def install(app: FastAPI, metrics: Metrics) -> None:
    """The request middleware (id, latency, access log) and the `/metrics` route."""
    app.add_middleware(ObserveMiddleware, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    def prometheus():
        from fastapi.responses import Response

        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
