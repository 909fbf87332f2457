"""The REST schema (`/openapi.json`) is exactly the saved copy: moving code around must not change the API."""

import json
from pathlib import Path

from tests.helpers.openapi import current_schema

SAVED = Path(__file__).resolve().parents[1] / "data" / "openapi.json"


def test_the_rest_schema_is_the_saved_one():
    saved = json.loads(SAVED.read_text())
    now = json.loads(json.dumps(current_schema(), sort_keys=True))
    assert sorted(now["paths"]) == sorted(saved["paths"])
    assert now == saved, (
        "the REST schema changed; if on purpose, regenerate the copy: python -m tests.helpers.openapi > tests/data/openapi.json"
    )
