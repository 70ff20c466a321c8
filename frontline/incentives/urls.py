"""Placeholder until the pages land."""

app_name = "incentives"

urlpatterns: list = []
