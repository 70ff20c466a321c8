"""Placeholder module for the parallel build; its engineer replaces it."""

urlpatterns: list = []
