"""A calculation over HTTP: the final `answer` event of a streamed answer (and the plain JSON answer) carries the
number the service computed, both citations and the calculation; the model's own result only in the tokens."""

import json

from rag.core.types import ModelRef
from rag.generation.protocol import Generation
from tests.helpers.apps import client, make_app, put

DRAFT = "Net sales grew 15.0% in 2023: (1,400 [{new}] - 1,250 [{old}]) / 1,250 [{old}] * 100 = 15.0%."


class GrowthGenerator:
    """Answers every question with the growth calculation above, its result wrong (15.0% for 12.0%)."""

    name = "scripted"

    def warm_up(self) -> None:
        pass

    def ref(self) -> ModelRef:
        return ModelRef(name=self.name, backend="test")

    def generate(self, messages, max_tokens=256, stop=None, on_token=None) -> Generation:
        user = messages[-1]["content"]  # the sources as the prompt numbered them
        old = 1 if user.index("1,250") < user.index("1,400") else 2
        text = DRAFT.format(new=3 - old, old=old)
        for piece in text.split(" "):
            if on_token is not None:
                on_token(piece + " ")
        return Generation(text, 10, len(text.split()), 1.0, 1.0, 2.0)


def events(lines) -> list[tuple[str, dict]]:
    out, event = [], None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event:
            out.append((event, json.loads(line.split(":", 1)[1])))
    return out


def test_a_streamed_calculation_arrives_computed_in_the_answer_event(tmp_path):
    app, services = make_app(tmp_path, answer={"min_retrieval": 0})
    services._fixed = GrowthGenerator()
    put(services, "default", "acme_2023.pdf", ["Acme net sales were $1,250 million in 2022.", "Net sales | 2023 | 1,400"])
    c = client(app)
    body = {"question": "How much did Acme net sales grow in 2023?", "k": 2, "stream": True}
    with c.stream("POST", "/v1/ask", json=body) as r:
        assert r.status_code == 200
        got = events(r.iter_lines())
    assert [e for e, _ in got][-1] == "answer" and "15.0%" in "".join(d["text"] for e, d in got if e == "token")
    final = got[-1][1]
    assert "= 12.0%." in final["answer"] and "15.0%" not in final["answer"]
    (calc,) = final["calculations"]
    assert calc["result"] == 12.0 and calc["unit"] == "%" and calc["replaced"] and calc["stated"] == "15.0%"
    pages = {o["citation"]: o["quote"] for o in calc["operands"]}
    assert set(pages.values()) == {"Acme net sales were $1,250 million in 2022.", "Net sales | 2023 | 1,400"}
    assert {c["n"] for c in final["citations"]} == {1, 2}
    plain = c.post("/v1/ask", json={**body, "stream": False}).json()
    assert plain["answer"] == final["answer"] and plain["calculations"] == final["calculations"]
