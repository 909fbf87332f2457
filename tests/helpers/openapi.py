"""The REST schema as the app serves it, for the saved copy in tests/data/openapi.json.

Regenerate the copy (only when the schema changes on purpose): python -m tests.helpers.openapi > tests/data/openapi.json
"""

import json
import tempfile


def current_schema() -> dict:
    from tests.helpers.apps import make_app

    with tempfile.TemporaryDirectory() as data:
        app, _ = make_app(data)
        return app.openapi()


if __name__ == "__main__":
    print(json.dumps(current_schema(), indent=1, sort_keys=True))
