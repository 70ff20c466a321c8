"""Placeholder until the endpoints land: see api_urls.py."""

urlpatterns: list = []
