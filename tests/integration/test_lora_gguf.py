"""A peft adapter on the real 0.5B, exported to GGUF and registered as a model version: llama.cpp loads it
and moves the next-token logits the way transformers + peft does; the service answers with it."""

from dataclasses import replace

import numpy as np
import pytest

from rag.core.errors import HashMismatch
from rag.models.registry import ModelRegistry
from rag.models.versions import ModelVersions
from rag.service.services import Services
from tests.helpers.models import SMALL_MODEL, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    s = make_settings(tmp_path_factory.mktemp("lora-data"))
    return s.model_copy(update={"versions_dir": tmp_path_factory.mktemp("lora-versions")})


@pytest.fixture(scope="module")
def version(settings, peft_adapter, tmp_path_factory):
    card = tmp_path_factory.mktemp("card") / "card.json"
    card.write_text('{"examples": 0, "note": "random adapter for tests"}')
    return ModelVersions(settings).export(
        peft_adapter.path, SMALL_MODEL, "random-lora", data_card=card, notes="large random lora_B"
    )


def llama_outputs(path, lora, ids: list[int], n: int) -> tuple[np.ndarray, list[int]]:
    """Next-token logits after `ids` and the greedy continuation (n tokens, stopping at the end of turn)."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(path),
        lora_path=str(lora) if lora else None,
        n_ctx=512,
        n_threads=2,
        seed=0,
        logits_all=True,
        verbose=False,
    )
    try:
        llm.eval(ids)
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        llm.reset()
        out = []
        for token in llm.generate(ids, temp=0.0, top_k=1):
            out.append(token)
            if token == llm.token_eos() or len(out) >= n:
                break
        return logits, out
    finally:
        llm.close()


@pytest.fixture(scope="module")
def llama(settings, version, peft_adapter):
    base = ModelRegistry(settings).resolve(SMALL_MODEL).path
    n = len(peft_adapter.tuned_ids)
    return {
        "base": llama_outputs(base, None, peft_adapter.prompt_ids, n),
        "tuned": llama_outputs(base, version.adapter, peft_adapter.prompt_ids, n),
    }


def test_the_version_holds_the_exported_adapter(version, settings):
    assert version.base == SMALL_MODEL and version.base_sha256 == ModelRegistry(settings).entry(SMALL_MODEL)["sha256"]
    assert version.adapter.name == "adapter.gguf" and len(version.adapter_sha256) == 64
    assert version.meta["pairs"] == 24 * 7 and version.meta["ranks"] == [8] and version.meta["alpha"] == 16.0
    assert version.data_card.is_file() and version.eval_report is None


def test_llama_cpp_moves_the_logits_the_way_peft_does(llama, peft_adapter):
    (base, _), (tuned, _) = llama["base"], llama["tuned"]
    hf_delta = peft_adapter.tuned_logits - peft_adapter.base_logits
    ll_delta = tuned - base
    cosine = float(hf_delta @ ll_delta / (np.linalg.norm(hf_delta) * np.linalg.norm(ll_delta)))
    noise = np.linalg.norm(base - peft_adapter.base_logits)  # the two runtimes on the same base weights
    # measured: cosine 0.996, |delta| 416 (peft) vs 421 (llama.cpp), the bases 35 apart (llama.cpp quantises
    # activations; at most 0.4 on one logit): the adapter's effect is the same, far above the runtimes' difference
    assert cosine > 0.95, cosine
    assert 0.8 < np.linalg.norm(ll_delta) / np.linalg.norm(hf_delta) < 1.25
    assert noise < 0.2 * np.linalg.norm(hf_delta), noise
    assert int(np.argmax(tuned)) == int(np.argmax(peft_adapter.tuned_logits))


def test_greedy_text_changes_with_the_adapter_as_in_transformers(llama, peft_adapter):
    (_, base_ids), (_, tuned_ids) = llama["base"], llama["tuned"]
    decode = peft_adapter.decode
    assert decode(base_ids) == decode(peft_adapter.base_ids)  # "... is Jupiter."
    assert decode(tuned_ids) != decode(base_ids)
    assert decode(tuned_ids) == decode(peft_adapter.tuned_ids)  # measured: "... is Mars."


def test_the_service_answers_with_the_current_version(settings, version):
    services = Services(settings.model_copy(update={"generator": settings.generator.model_copy(update={"threads": 2})}))
    messages = [{"role": "user", "content": "Name the largest planet of the solar system."}]
    base = services.generator
    assert base.ref().version == SMALL_MODEL and base.ref().adapter is None
    base_text = base.generate(messages, max_tokens=12).text
    services.versions.use("random-lora")
    tuned = services.generator
    ref = tuned.ref()
    assert (ref.version, ref.name, ref.adapter_sha256) == ("random-lora", SMALL_MODEL, version.adapter_sha256)
    assert tuned.generate(messages, max_tokens=12).text != base_text
    services.versions.rollback()
    assert services.generator.ref().version == SMALL_MODEL


def test_a_tampered_adapter_is_refused_at_load(settings, version, tmp_path):
    from rag.generation.llama_cpp import LlamaCppGenerator
    from rag.service.services import version_settings

    copy = tmp_path / "adapter.gguf"
    data = bytearray(version.adapter.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    tampered = replace(version, adapter=copy)
    gen = LlamaCppGenerator(version_settings(settings.generator, tampered), ModelRegistry(settings), tampered.id)
    with pytest.raises(HashMismatch, match="refusing to load"):
        gen.warm_up()
