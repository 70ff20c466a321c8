"""api_rules routes (being built)."""

urlpatterns: list = []
