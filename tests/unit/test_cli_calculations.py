"""`rag ask` prints an answer's calculations: the expression, the computed result, and where each operand is written."""

from types import SimpleNamespace

from typer.testing import CliRunner

import api.cli.commands as commands
from rag.core.types import Answer, Calculation, Citation, Operand


def test_rag_ask_prints_the_calculations(monkeypatch, tmp_path):
    answer = Answer(
        answer="Net sales grew 12.0%: (1,400 [2] - 1,250 [1]) / 1,250 [1] * 100 = 12.0%.",
        citations=[
            Citation(n=2, doc="acme.pdf", page=4, chunk_id="b", quote="Net sales | 2023 | 1,400"),
            Citation(n=1, doc="acme.pdf", page=3, chunk_id="a", quote="Net sales were $1,250 million in 2022."),
        ],
        calculations=[
            Calculation(
                expression="(1,400 [2] - 1,250 [1]) / 1,250 [1] * 100",
                operands=[
                    Operand(value=1400, text="1,400", citation=2, quote="Net sales | 2023 | 1,400"),
                    Operand(value=1250, text="1,250", citation=1, quote="Net sales were $1,250 million in 2022."),
                ],
                result=12.0,
                unit="%",
                text="12.0%",
                stated="15.0%",
                replaced=True,
            )
        ],
    )

    def ask(*args, on_token=None, **kwargs):
        if on_token is not None:
            on_token("Net sales grew 15.0%: ... = 15.0%.")
        return answer

    monkeypatch.setattr(commands, "services", lambda: SimpleNamespace(ask=ask))
    result = CliRunner().invoke(commands.app, ["--data-dir", str(tmp_path), "ask", "How much did net sales grow?"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Checked answer: Net sales grew 12.0%" in out  # the streamed draft had the model's 15.0%
    assert "calculation: (1,400 [2] - 1,250 [1]) / 1,250 [1] * 100 = 12.0% (the model wrote 15.0%: replaced)" in out
    assert '1,250 [1]: "Net sales were $1,250 million in 2022."' in out
