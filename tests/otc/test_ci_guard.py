"""The CI guard (tests/conftest.py): in CI a postgres/redis/browser test that skips fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests/otc/ci_guard/probe.py"


def _run(ci: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": ci, "REDIS_URL": "", "PYTEST_XDIST_AUTO_NUM_WORKERS": "0"}
    env.pop("DATABASE_URL", None)  # SQLite: the probe has no postgres test, the database is not used
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "0", "-rfs", PROBE],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_ci_only_test_that_skips_fails_the_ci_run_and_only_there():
    ci = _run("true")
    assert ci.returncode == 1, ci.stdout
    assert "1 failed, 1 passed, 1 skipped, 1 error" in ci.stdout  # a skip in setup is an error
    assert "CI must run this test (redis), but it skipped: no broker here" in ci.stdout
    assert "CI must run this test (browser), but it skipped: skipped by a marker" in ci.stdout

    local = _run("")
    assert local.returncode == 0, local.stdout
    assert "1 passed, 3 skipped" in local.stdout
