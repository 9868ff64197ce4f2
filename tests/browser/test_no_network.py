"""The browser fixtures keep the tests off the network: a request to any host or address but the
live server's fails in the browser, at the fixtures' proxy, and is recorded for the test to assert."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("url", ["https://cdn.example.com/chart.js", "http://192.0.2.1/", "http://10.0.0.1:8000/"])
def test_an_offsite_request_fails_in_the_browser_and_is_recorded(page, live_server, url):
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.offsite_requests == []

    with pytest.raises(Error, match="ERR_PROXY_CONNECTION_FAILED"):
        page.goto(url)

    assert page.offsite_requests == [url]
