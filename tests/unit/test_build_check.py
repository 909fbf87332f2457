"""The llama.cpp build check: a child process that crashes becomes an error that names the signal and the fix;
a generator whose check failed keeps failing with that reason (503) and never loads llama.cpp in this process;
a server keeps serving search while answers are unavailable."""

import json
import sys

import pytest

from rag.core.settings import GeneratorSettings, Settings
from rag.generation import build_check
from rag.generation.build_check import BuildCheckFailed, check_llama_build, describe_failure, smallest_generator
from rag.generation.llama_cpp import LlamaCppGenerator
from rag.models.registry import ModelRegistry
from tests.helpers.apps import client, make_app, put

SIGILL_CHILD = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    return path


def test_a_child_that_dies_with_sigill_is_named_with_the_fix(model_file):
    with pytest.raises(BuildCheckFailed) as err:
        check_llama_build(model_file, argv=SIGILL_CHILD)
    message = err.value.message
    assert "SIGILL (illegal instruction)" in message and "tiny.gguf" in message
    assert "scripts/setup.sh" in message and err.value.status == 503
    assert "\n" not in message  # one line


def test_other_failures_say_what_the_child_said(model_file):
    argv = [sys.executable, "-c", "import sys; print('cannot load model: bad magic', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(BuildCheckFailed, match=r"exit code 3\): cannot load model: bad magic"):
        check_llama_build(model_file, argv=argv)
    assert "SIGSEGV" in describe_failure(-11, "", "m.gguf")


def test_a_child_that_hangs_is_stopped(model_file):
    with pytest.raises(BuildCheckFailed, match="did not finish"):
        check_llama_build(model_file, timeout_s=0.5, argv=[sys.executable, "-c", "import time; time.sleep(30)"])


def test_a_pass_is_remembered_per_cpu_build_and_model(model_file, tmp_path, monkeypatch):
    cache = tmp_path / "checks.json"
    calls = []

    def fake_run(command, **kw):
        calls.append(command)
        out = json.dumps({"model": "tiny.gguf", "text": " Ingrid", "prompt_tokens": 120, "completion_tokens": 8})
        return type("P", (), {"returncode": 0, "stdout": out + "\n", "stderr": ""})()

    monkeypatch.setattr(build_check.subprocess, "run", fake_run)
    first = check_llama_build(model_file, cache_file=cache)
    again = check_llama_build(model_file, cache_file=cache)
    assert len(calls) == 1 and first["cached"] is False and again["cached"] is True
    assert again["completion_tokens"] == 8 and again["cpu"]
    monkeypatch.setattr(build_check, "cpu_flags", lambda: "another cpu")  # the data moved to another machine
    check_llama_build(model_file, cache_file=cache)
    assert len(calls) == 2


def test_a_failure_is_never_remembered(model_file, tmp_path):
    cache = tmp_path / "checks.json"
    with pytest.raises(BuildCheckFailed):
        check_llama_build(model_file, cache_file=cache, argv=SIGILL_CHILD)
    assert not cache.exists()


def test_the_smallest_verified_gguf_is_the_one_tested(tmp_path):
    big, small = tmp_path / "big.gguf", tmp_path / "small.gguf"
    big.write_bytes(b"x" * 100)
    small.write_bytes(b"x" * 10)
    status = [
        {"kind": "generator", "verified": True, "path": str(big)},
        {"kind": "generator", "verified": True, "path": str(small)},
        {"kind": "generator", "verified": False, "error": "not assembled"},
        {"kind": "embedder", "verified": True, "path": str(tmp_path)},
    ]
    assert smallest_generator(status) == small
    assert smallest_generator(status[2:]) is None


def test_a_generator_whose_build_check_fails_keeps_the_reason_and_does_not_load(model_file, tmp_path, monkeypatch):
    calls = []

    def crash(path, threads, cache_file=None):
        calls.append(path)
        raise BuildCheckFailed(describe_failure(-4, "", path.name))

    monkeypatch.setattr("rag.generation.llama_cpp.check_llama_build", crash)
    gen = LlamaCppGenerator(GeneratorSettings(model="m"), ModelRegistry(Settings(data_dir=tmp_path)))
    for _ in range(2):
        with pytest.raises(BuildCheckFailed, match="SIGILL"):
            gen.check_build(model_file, 2)
    assert len(calls) == 1 and gen._llm is None


def test_search_keeps_serving_while_answers_are_unavailable(tmp_path):
    app, services = make_app(tmp_path)
    put(services, "default", "crane.pdf", ["The harbour crane was inspected by Ingrid Solheim."])

    class CrashingGenerator:
        def warm_up(self):
            raise BuildCheckFailed(describe_failure(-4, "", "model.gguf"))

        def generate(self, *a, **kw):
            self.warm_up()

    services._fixed = CrashingGenerator()
    services.warm_up()  # the build check failed: warm-up goes on
    c = client(app)
    assert c.post("/v1/search", json={"question": "who inspected the crane"}).json()["hits"]
    r = c.post("/v1/ask", json={"question": "who inspected the crane"})
    assert r.status_code == 503 and "SIGILL" in r.json()["detail"]
    ready = c.get("/readyz")
    assert ready.status_code == 503 and "SIGILL" in ready.json()["detail"]
