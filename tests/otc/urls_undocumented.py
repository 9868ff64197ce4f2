"""tests.otc.urls plus one API endpoint excluded from the schema (for the coverage check's own test)."""

from django.urls import path

from otc.urls import handler403, handler404, handler500  # noqa: F401

from .urls import HiddenView
from .urls import urlpatterns as documented

urlpatterns = [path("api/v1/kernel-test/hidden/", HiddenView.as_view(), name="kernel-test-hidden"), *documented]
