from tests.otc.receiver import receiver  # noqa: F401 (a fixture for the webhook tests)
