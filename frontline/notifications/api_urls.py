"""Placeholder for the parallel build; the notifications engineer replaces it."""

urlpatterns: list = []
