"""Billing: HTML routes."""

app_name = "billing"
urlpatterns: list = []
