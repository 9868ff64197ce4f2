"""Not collected by the suite (no test_ prefix): tests/otc/test_ci_guard.py runs it in a pytest of
its own with CI=true, where each of these skips must turn into a failure."""

import pytest


@pytest.mark.redis
def test_redis_test_that_skips_inside():
    pytest.skip("no broker here")


@pytest.mark.browser
@pytest.mark.skip(reason="skipped by a marker")
def test_browser_test_skipped_by_a_marker():
    pass


@pytest.mark.skip(reason="an ordinary skip")
def test_ordinary_test_may_skip():
    pass


def test_plain_test_passes():
    assert True
