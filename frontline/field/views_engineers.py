"""views_engineers routes (being built)."""

urlpatterns: list = []
