"""Thread budgets: each of N processes gets its share of the cores; the settings carry a budget to the models."""

from rag.core.settings import Settings
from rag.core.threads import cores, share, with_threads


def test_each_process_gets_its_share_of_the_cores_and_at_least_one():
    assert share(1, 8) == 8 and share(2, 8) == 4 and share(3, 8) == 2
    assert share(4, 2) == 1 and share(0, 2) == 2
    assert share(1) == cores() >= 1


def test_a_budget_sizes_the_embedder_and_the_parse_models_and_nothing_else():
    settings = Settings(data_dir="/tmp/x", generator={"threads": 3})
    limited = with_threads(settings, 1)
    assert limited.embedder.threads == 1 and limited.parse.threads == 1
    assert limited.generator.threads == 3 and limited.data_dir == settings.data_dir
    assert settings.embedder.threads == 0 and settings.parse.threads == 0  # the original is untouched
