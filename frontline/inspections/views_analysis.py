"""Placeholder until the pages land: see urls.py."""

urlpatterns: list = []
