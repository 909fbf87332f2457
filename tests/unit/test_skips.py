"""Under CI=true the suite fails when a test other than a GPU test skips (conftest's session hook)."""

import os
import subprocess
import sys

from tests.helpers.skips import unexpected_skips

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_only_gpu_tests_may_skip():
    skipped = [
        ("tests/unit/test_vector_index.py::test_gpu_index", "no GPU: faiss has no GPU support"),
        ("tests/e2e/test_redis_queue.py::test_queue", "no redis-server program"),
    ]
    assert unexpected_skips(skipped) == [skipped[1]]
    assert unexpected_skips(skipped[:1]) == []


def test_a_suite_with_a_non_gpu_skip_fails_under_ci(tmp_path):
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\ndef test_ok():\n    pass\n\n"
        "@pytest.mark.skip(reason='no soffice program')\ndef test_needs_soffice():\n    pass\n"
    )
    conftest = os.path.join(ROOT, "tests", "conftest.py")
    (tmp_path / "conftest.py").write_text(open(conftest).read())

    def run(ci: str):
        env = dict(os.environ, CI=ci, PYTHONPATH=ROOT)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )

    under_ci, local = run("true"), run("")
    assert under_ci.returncode == 1 and "CI allows only GPU tests to skip" in under_ci.stdout
    assert "1 skipped: " in under_ci.stdout and "no soffice program" in under_ci.stdout
    assert local.returncode == 0
