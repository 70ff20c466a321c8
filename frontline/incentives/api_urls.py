"""Placeholder until the endpoints land."""

urlpatterns: list = []
