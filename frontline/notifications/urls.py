"""Placeholder for the parallel build; the notifications engineer replaces it."""

app_name = "notifications"
urlpatterns: list = []
