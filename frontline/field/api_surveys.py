"""api_surveys routes (being built)."""

urlpatterns: list = []
