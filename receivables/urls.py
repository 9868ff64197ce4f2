"""Receivables: HTML routes."""

app_name = "receivables"
urlpatterns: list = []
