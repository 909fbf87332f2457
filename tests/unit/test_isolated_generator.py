"""A native crash of the answer model costs one request, not the server (issue 19, item 16): the model runs in a
child process; its crash is a 503 with the reason, search and the rest of the API go on, and the next question is
answered by a new child."""

import pytest

from api.http.app import create_app
from rag.core.errors import Cancelled
from rag.core.settings import Settings
from rag.generation.isolated import GeneratorCrashed, IsolatedGenerator
from rag.service.services import Services
from tests.helpers.apps import HashEmbedder, client, put
from tests.helpers.crashing_generator import CrashingGenerator, build


@pytest.fixture()
def isolated():
    generator = IsolatedGenerator(CrashingGenerator(), build, ())
    yield generator
    generator.close()


def _ask(text):
    return [{"role": "user", "content": text}]


def test_a_crash_in_the_child_is_a_503_and_the_next_call_starts_a_new_one(isolated):
    pieces = []
    assert isolated.generate(_ask("annual leave days"), 16, on_token=pieces.append).text == "annual leave days"
    assert pieces == ["annual ", "leave ", "days "] and isolated.count_tokens("a b c") == 3
    with pytest.raises(GeneratorCrashed) as err:
        isolated.generate(_ask("please crash"), 16)
    assert err.value.status == 503 and "killed by SIGSEGV" in err.value.message
    assert isolated.generate(_ask("still here"), 16).text == "still here"


def test_a_caller_that_stops_stops_the_child_and_it_serves_the_next_call(isolated):
    seen = []

    def leave_after_three(piece):
        seen.append(piece)
        if len(seen) == 3:
            raise Cancelled("the client disconnected")

    with pytest.raises(Cancelled):
        isolated.generate(_ask("slow answer"), 600, on_token=leave_after_three)
    assert len(seen) == 3
    assert isolated.generate(_ask("next question"), 16).text == "next question"


def test_over_http_a_model_crash_is_one_503_and_the_server_keeps_serving(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", answer={"min_retrieval": 0})
    services = Services(settings, generator=IsolatedGenerator(CrashingGenerator(), build, ()))
    services.__dict__["embedder"] = HashEmbedder()
    put(services, "default", "handbook.pdf", ["Annual leave is 30 days for every employee."])
    app = create_app(warm_up=False, host="127.0.0.1", services=services)
    c = client(app)
    c.headers["host"] = "127.0.0.1"
    documents = c.get("/v1/documents").json()
    r = c.post("/v1/ask", json={"question": "How many days of annual leave? crash"})
    assert r.status_code == 503 and "killed by SIGSEGV" in r.json()["detail"] and r.headers["x-request-id"]
    assert c.post("/v1/search", json={"question": "annual leave"}).status_code == 200
    assert c.get("/metrics").status_code == 200 and c.get("/v1/documents").json() == documents
    assert c.post("/v1/ask", json={"question": "How many days of annual leave?"}).status_code == 200
    services.generator.close()
