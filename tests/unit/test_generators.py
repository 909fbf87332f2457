"""Backend selection, the OpenAI-compatible client against a mock transport, stop-string handling."""

import importlib.util
import json
import socket

import httpx
import pytest

from rag.core.errors import BadInput, GeneratorError, GeneratorUnavailable, MissingExtra
from rag.core.settings import GeneratorSettings, Settings
from rag.generation.factory import make_generator
from rag.generation.llama_cpp import LlamaCppGenerator
from rag.generation.openai_compatible import OpenAIGenerator
from rag.generation.transformers import StopText
from rag.models.registry import ModelRegistry

ENDPOINT = "http://gen.test/v1"


@pytest.fixture
def registry(tmp_path):
    return ModelRegistry(Settings(data_dir=tmp_path))


def test_make_generator_picks_the_backend_from_settings(registry):
    assert isinstance(make_generator(GeneratorSettings(), registry), LlamaCppGenerator)
    gen = make_generator(GeneratorSettings(backend="openai", endpoint=ENDPOINT), registry)
    assert isinstance(gen, OpenAIGenerator) and gen.endpoint == ENDPOINT
    from rag.generation.transformers import TransformersGenerator

    assert isinstance(make_generator(GeneratorSettings(backend="transformers"), registry), TransformersGenerator)
    with pytest.raises(BadInput, match="unknown generator backend"):
        make_generator(GeneratorSettings.model_construct(backend="tgi"), registry)  # past validation


def test_backend_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_GENERATOR__BACKEND", "openai")
    monkeypatch.setenv("RAG_GENERATOR__ENDPOINT", ENDPOINT)
    monkeypatch.setenv("RAG_GENERATOR__API_KEY", "k")
    g = Settings(data_dir=tmp_path).generator
    assert (g.backend, g.endpoint, g.api_key) == ("openai", ENDPOINT, "k")


def test_a_missing_optional_package_is_named_when_the_backend_is_built(registry, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    with pytest.raises(MissingExtra, match=r"gguf.*pip install 'grounded-rag\[hf\]'"):
        make_generator(GeneratorSettings(backend="transformers"), registry)


def test_openai_backend_needs_an_endpoint(registry):
    with pytest.raises(BadInput, match="RAG_GENERATOR__ENDPOINT"):
        make_generator(GeneratorSettings(backend="openai"), registry)


def test_an_unreachable_endpoint_is_a_clear_error():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    gen = OpenAIGenerator(GeneratorSettings(backend="openai", endpoint=url, timeout_s=5))
    with pytest.raises(GeneratorUnavailable, match=f"cannot reach the generator endpoint {url}"):
        gen.generate([{"role": "user", "content": "hi"}], max_tokens=4)
    assert GeneratorUnavailable.status == 503


class Body(httpx.SyncByteStream):
    """A streamed response body that remembers whether the client closed it."""

    def __init__(self, events: list):
        self.lines = [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]
        self.closed = False

    def __iter__(self):
        yield b": keep-alive comment\n\n"
        yield from self.lines

    def close(self):
        self.closed = True


def chunk(text: str | None = None, model: str = "served-model", usage: dict | None = None) -> dict:
    event = {"model": model, "choices": [{"index": 0, "delta": {"content": text} if text else {}}] if not usage else []}
    if usage:
        event["usage"] = usage
    return event


class FakeServer:
    """An OpenAI-compatible endpoint in a MockTransport: records requests, streams the given events."""

    def __init__(self, events: list, models=("served-model",), status: int = 200):
        self.events, self.models, self.status = events, list(models), status
        self.requests: list[httpx.Request] = []
        self.body: Body | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": m} for m in self.models]})
        if self.status != 200:
            return httpx.Response(self.status, text="model overloaded")
        self.body = Body(self.events)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=self.body)


def make(server: FakeServer, **settings) -> OpenAIGenerator:
    return OpenAIGenerator(
        GeneratorSettings(backend="openai", endpoint=ENDPOINT, **settings), transport=httpx.MockTransport(server)
    )


def test_streaming_usage_and_the_reported_model():
    usage = {"prompt_tokens": 21, "completion_tokens": 3, "total_tokens": 24}
    server = FakeServer([chunk("Hello"), chunk(","), chunk(" world"), chunk(usage=usage)])
    gen = make(server, api_key="secret")
    pieces = []
    out = gen.generate([{"role": "user", "content": "hi"}], max_tokens=8, stop=["\n\n"], on_token=pieces.append)
    assert pieces == ["Hello", ",", " world"] and out.text == "Hello, world"
    assert (out.prompt_tokens, out.completion_tokens) == (21, 3)
    sent = json.loads(server.requests[-1].content)
    assert sent["model"] == "served-model" and sent["stream"] is True and sent["stop"] == ["\n\n"]
    assert sent["stream_options"] == {"include_usage": True} and sent["max_tokens"] == 8
    assert all(r.headers["authorization"] == "Bearer secret" for r in server.requests)
    ref = gen.ref()
    assert (ref.name, ref.backend, ref.endpoint, ref.sha256) == ("served-model", "openai", ENDPOINT, None)


def test_without_usage_pieces_are_counted_and_the_prompt_estimated():
    gen = make(FakeServer([chunk("a"), chunk("b")]))
    out = gen.generate([{"role": "user", "content": "x" * 35}], max_tokens=8)
    assert out.completion_tokens == 2 and out.prompt_tokens == 10
    assert gen.count_tokens("abcdefg") == 2  # ceil(7 / 3.5)
    assert "authorization" not in make(FakeServer([])).client.headers


def test_cancelling_closes_the_stream():
    server = FakeServer([chunk("one"), chunk("two"), chunk("three")])
    gen = make(server)

    class Stop(Exception):
        pass

    def cancel(piece):
        raise Stop

    with pytest.raises(Stop):
        gen.generate([{"role": "user", "content": "hi"}], max_tokens=8, on_token=cancel)
    assert server.body.closed


def test_http_errors_name_the_endpoint_and_status():
    with pytest.raises(GeneratorError, match=r"gen.test/v1/chat/completions answered HTTP 500: model overloaded"):
        make(FakeServer([], status=500)).generate([{"role": "user", "content": "hi"}], max_tokens=4)


def test_the_model_to_request_is_settled_against_the_endpoint():
    # no model configured: the one the endpoint serves
    assert make(FakeServer([], models=["only"])).warm_up() == "only"
    # a configured model it serves, among others
    assert make(FakeServer([], models=["a", "b"]), model="b").warm_up() == "b"
    # a configured model it does not serve: refused, never silently replaced
    with pytest.raises(BadInput, match="does not serve the model 'x'; it serves only"):
        make(FakeServer([], models=["only"]), model="x").warm_up()


def test_stop_strings_are_cut_and_never_streamed():
    s = StopText(["</answer>", "\n\n"])
    out = [s.feed(p) for p in ["The crane", " was seen.</an", "swer> more"]]
    assert "".join(out) == "The crane was seen." and s.done and s.flush() == ""
    s = StopText(["</answer>"])
    out = [s.feed(p) for p in ["a </", "b"]] + [s.flush()]
    assert "".join(out) == "a </b" and out[0] == "a "  # a held-back tail that did not become a stop string
    s = StopText(None)
    assert s.feed("x\n\n") == "x\n\n"


def test_a_stream_keeps_pieces_times_the_first_and_splits_prefill_from_decode():
    from rag.generation.protocol import Stream

    now = [10.0]
    got: list[str] = []
    out = Stream(got.append, clock=lambda: now[0])
    now[0] += 0.5
    out.add("")  # empty pieces are not pieces
    out.add("Hello")
    now[0] += 1.5
    out.add(" world")
    gen = out.done(prompt_tokens=12, completion_tokens=0)
    assert got == ["Hello", " world"] and gen.text == "Hello world"
    assert (gen.first_token_ms, gen.prompt_ms, gen.decode_ms, gen.total_ms) == (500.0, 500.0, 1500.0, 2000.0)
    assert gen.completion_tokens == 2  # not reported: the pieces are counted
    assert out.done(12, 7, prompt_ms=120.0, decode_ms=900.0).decode_ms == 900.0


def test_a_stream_stops_when_its_listener_raises():
    from rag.generation.protocol import Stream

    def hang_up(piece: str) -> None:
        raise ConnectionError("client left")

    out = Stream(hang_up)
    with pytest.raises(ConnectionError):
        out.add("x")
