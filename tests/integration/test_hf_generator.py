"""The transformers backend on the real 0.5B GGUF (dequantised; CPU here, GPU when present)."""

import pytest

from rag.generation.factory import make_generator
from rag.generation.hf_model import load_hf_model
from rag.models.registry import ModelRegistry
from tests.helpers.models import SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    pytest.importorskip("gguf", reason="the transformers backend needs gguf: pip install 'grounded-rag[hf]'")
    settings = make_settings(tmp_path_factory.mktemp("hf"))
    settings.generator.backend = "transformers"
    # the models dir's own cache of dense checkpoints, which the fine-tuning tests fill: converting the GGUF again costs
    # a minute of the test run (the conversion is tested there and by the reload test below)
    gen = make_generator(settings.generator, ModelRegistry(settings))
    gen.warm_up()
    return gen


def test_ref_is_the_verified_gguf(generator):
    ref = generator.ref()
    assert (ref.name, ref.backend, ref.endpoint) == (SMALL_MODEL, "transformers", None)
    assert ref.sha256 == generator.registry.entry(SMALL_MODEL)["sha256"]


def test_a_short_generation_streams(generator):
    pieces = []
    out = generator.generate([{"role": "user", "content": "Count from 1 to 5."}], max_tokens=12, on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == out.text and "1" in out.text
    assert out.completion_tokens <= 12 and out.prompt_tokens > 5 and out.first_token_ms > 0
    assert generator.count_tokens("Count from 1 to 5.") < out.prompt_tokens  # the template adds tokens


def test_cancelling_stops_the_generation(generator):
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
    assert after.text.strip()  # the model is usable after a cancelled generation


def test_the_dense_checkpoint_is_cached_and_reloads_the_same_model(generator):
    checkpoint = generator.warm_up().checkpoint
    assert (checkpoint / "source.json").is_file() and (checkpoint / "model.safetensors").is_file()
    messages = [{"role": "user", "content": "Say hello."}]
    first = generator.generate(messages, max_tokens=6).text
    resolved = generator.resolved
    device = generator.warm_up().device
    again = load_hf_model(resolved.path, device, sha256=resolved.sha256, cache_dir=checkpoint.parent)
    assert again.checkpoint == checkpoint and again.tokenizer.chat_template
    ids = again.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True).to(
        device
    )
    out = again.model.generate(**ids, max_new_tokens=6, do_sample=False)
    assert again.tokenizer.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True) == first
