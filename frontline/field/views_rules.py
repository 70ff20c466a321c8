"""views_rules routes (being built)."""

urlpatterns: list = []
