"""The OpenAI-compatible backend against a real server: llama-cpp-python's, serving the 0.5B GGUF."""

import importlib.util
import os
import socket
import subprocess
import sys

import pytest

from rag.core.settings import GeneratorSettings
from rag.generation.factory import make_generator
from rag.models.registry import ModelRegistry
from tests.helpers.apps import wait_ready
from tests.helpers.models import SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow

SERVER_EXTRAS = ["sse_starlette", "starlette_context", "pydantic_settings", "fastapi", "uvicorn"]
ALIAS = "qwen-small"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """`python -m llama_cpp.server` on a free port with the verified 0.5B GGUF; its base URL once it serves."""
    missing = [m for m in SERVER_EXTRAS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"llama-cpp-python's server needs {', '.join(missing)}: pip install 'grounded-rag[llama-server]'")
    tmp = tmp_path_factory.mktemp("llama-server")
    gguf = ModelRegistry(make_settings(tmp)).resolve(SMALL_MODEL).path
    port = free_port()
    log = open(tmp / "server.log", "w+")
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(os.cpu_count() or 2),
    ]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(proc, url, log.name, timeout_s=180, path="/models")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def generator(endpoint, tmp_path_factory):
    settings = GeneratorSettings(backend="openai", endpoint=endpoint, model=ALIAS, timeout_s=120)
    gen = make_generator(settings, ModelRegistry(make_settings(tmp_path_factory.mktemp("openai"))))
    yield gen
    gen.close()


def test_streams_pieces_and_reports_usage(generator):
    pieces = []
    out = generator.generate([{"role": "user", "content": "Count from 1 to 5."}], max_tokens=16, on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == out.text and out.text.strip()
    assert out.first_token_ms > 0 and out.total_ms >= out.first_token_ms
    assert 1 <= out.completion_tokens <= 16 and out.prompt_tokens > 5


def test_ref_names_the_served_model_and_the_endpoint(generator, endpoint):
    ref = generator.ref()
    assert (ref.name, ref.backend, ref.endpoint, ref.sha256) == (ALIAS, "openai", endpoint, None)


def test_stop_strings_are_passed_to_the_server(generator):
    out = generator.generate(
        [{"role": "user", "content": "Write the numbers 1, 2, 3, 4, 5 separated by commas."}], max_tokens=24, stop=["3"]
    )
    assert "3" not in out.text and "4" not in out.text


def test_cancelling_closes_the_stream_and_the_server_keeps_serving(generator):
    class Stop(Exception):
        pass

    seen = []

    def cancel(piece):
        seen.append(piece)
        raise Stop

    with pytest.raises(Stop):
        generator.generate([{"role": "user", "content": "Count from 1 to 100."}], max_tokens=200, on_token=cancel)
    assert len(seen) == 1
    after = generator.generate([{"role": "user", "content": "Say OK."}], max_tokens=4)
    assert after.text.strip()
