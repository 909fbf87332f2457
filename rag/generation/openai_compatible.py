"""Generator backend on an OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp's server, ...).

The weights are remote, so the answer's model is named by what the endpoint reports (its `/models` list
and the `model` field of its responses) together with the endpoint's URL; there is no sha256 to check.
Answers stream over server-sent events (`stream: true`); each delta goes to `on_token`, and when `on_token`
raises, the HTTP stream is closed (the server sees the client leave) and the exception propagates.
"""

import importlib.util
import json
import logging
import math

from rag.core.errors import BadInput, GeneratorError, GeneratorTimeout, GeneratorUnavailable, MissingExtra
from rag.core.settings import GeneratorSettings
from rag.core.types import ModelRef
from rag.generation.protocol import Generation, OnToken, Stream

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.5  # estimate for count_tokens: no tokenizer is local (BPE on English text: about 4)


class OpenAIGenerator:
    """Chat completions over HTTP (httpx), with a bearer token when `api_key` is set."""

    def __init__(self, settings: GeneratorSettings, transport=None):
        if importlib.util.find_spec("httpx") is None:
            raise MissingExtra("the openai backend needs httpx: pip install httpx")
        if not settings.endpoint:
            raise BadInput(
                "the openai generator backend needs an endpoint: set RAG_GENERATOR__ENDPOINT, e.g. http://127.0.0.1:8080/v1"
            )
        self.settings = settings
        self.endpoint = settings.endpoint.rstrip("/")
        self.name = settings.model
        self._transport = transport  # tests may pass an httpx.MockTransport
        self._client = None
        self._model: str | None = None  # the model name to request (resolved against the endpoint's list)
        self._reported: str | None = None  # the model name the endpoint's last response reported

    @property
    def client(self):
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self.settings.api_key}"} if self.settings.api_key else {}
            timeout = httpx.Timeout(self.settings.timeout_s, connect=min(10.0, self.settings.timeout_s))
            self._client = httpx.Client(timeout=timeout, headers=headers, transport=self._transport)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def warm_up(self) -> str:
        """Ask the endpoint which models it serves and settle the one to request (idempotent)."""
        if self._model is None:
            self._model = self._choose_model(self._served_models())
            log.info("generator: %s at %s", self._model, self.endpoint)
        return self._model

    def ref(self) -> ModelRef:
        return ModelRef(name=self._reported or self.warm_up(), backend="openai", endpoint=self.endpoint)

    def count_tokens(self, text: str) -> int:
        """An estimate, rounded up: len(text) / 3.5 (no tokenizer is local; real BPE counts run lower)."""
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def _served_models(self) -> list[str] | None:
        """The model ids of GET /models, or None when the endpoint has no such route."""
        url = f"{self.endpoint}/models"
        with self._errors(url):
            resp = self.client.get(url)
        if resp.status_code in (404, 405):
            return None
        _raise_for_status(url, resp.status_code, resp.text)
        try:
            return [m["id"] for m in resp.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GeneratorError(f"{url} answered something that is not a model list: {resp.text[:200]!r}") from exc

    def _choose_model(self, served: list[str] | None) -> str:
        """The configured model when the endpoint serves it; the only one it serves when none was configured."""
        if not served or self.name in served:
            return self.name
        explicit = "model" in self.settings.model_fields_set
        if len(served) == 1 and not explicit:
            return served[0]
        raise BadInput(
            f"{self.endpoint} does not serve the model {self.name!r}; it serves {', '.join(served)} "
            "(set RAG_GENERATOR__MODEL to one of them)"
        )

    def generate(
        self, messages: list[dict], max_tokens: int, stop: list[str] | None = None, on_token: OnToken | None = None
    ) -> Generation:
        """One streamed chat completion. Usage comes from the final chunk when the server sends it
        (`stream_options.include_usage`), else prompt tokens are estimated and completion pieces counted.
        `prompt_ms` is the time to the first piece (network, queueing and prefill), `decode_ms` the rest."""
        body = {
            "model": self.warm_up(),
            "messages": messages,
            "max_tokens": max_tokens,
            "stream": True,
            "temperature": self.settings.temperature,
            "seed": 0,
            "stream_options": {"include_usage": True},
        }
        if stop:
            body["stop"] = stop
        url = f"{self.endpoint}/chat/completions"
        out = Stream(on_token)
        usage: dict = {}
        with self._errors(url), self.client.stream("POST", url, json=body) as resp:
            if resp.status_code >= 400:
                _raise_for_status(url, resp.status_code, resp.read().decode(errors="replace"))
            for event in _sse_events(resp.iter_lines()):
                if out.elapsed_s() > self.settings.timeout_s:
                    raise GeneratorTimeout(f"{url} did not finish within {self.settings.timeout_s:g} s")
                if event.get("error"):
                    raise GeneratorError(f"{url} reported an error mid-answer: {str(event['error'])[:300]}")
                self._reported = event.get("model") or self._reported
                usage = event.get("usage") or usage
                choices = event.get("choices") or [{}]
                out.add((choices[0].get("delta") or {}).get("content") or "")  # raising here closes the stream
        prompt = int(usage.get("prompt_tokens") or 0) or self.count_tokens("\n".join(m["content"] for m in messages))
        cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)  # OpenAI's usage field
        return out.done(prompt_tokens=prompt, completion_tokens=int(usage.get("completion_tokens") or 0), cached_tokens=cached)

    def _errors(self, url: str):
        return _HttpErrors(url, self.settings.timeout_s)


class _HttpErrors:
    """Turns httpx's transport errors into RagErrors that name the endpoint."""

    def __init__(self, url: str, timeout_s: float):
        self.url, self.timeout_s = url, timeout_s

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        import httpx

        if exc is None or not isinstance(exc, httpx.HTTPError):
            return False
        if isinstance(exc, httpx.TimeoutException):
            raise GeneratorTimeout(
                f"the generator endpoint {self.url} did not answer within {self.timeout_s:g} s ({type(exc).__name__})"
            ) from exc
        if isinstance(exc, httpx.ConnectError):
            raise GeneratorUnavailable(f"cannot reach the generator endpoint {self.url}: {exc}") from exc
        raise GeneratorError(f"the generator endpoint {self.url} failed: {type(exc).__name__}: {exc}") from exc


def _raise_for_status(url: str, status: int, text: str) -> None:
    if status >= 400:
        raise GeneratorError(f"the generator endpoint {url} answered HTTP {status}: {text.strip()[:300]}")


def _sse_events(lines):
    """The JSON objects of a server-sent-event stream's `data:` lines, up to `data: [DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments (":"), "event:" and "id:" lines
        data = line[5:].strip()
        if data == "[DONE]":
            return
        if not data:
            continue
        try:
            yield json.loads(data)
        except ValueError as exc:
            raise GeneratorError(f"malformed event from the generator endpoint: {data[:200]!r}") from exc
