"""api routes (being built)."""

urlpatterns: list = []
