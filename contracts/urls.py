"""Contracts: HTML routes."""

app_name = "contracts"
urlpatterns: list = []
