"""views_portal routes (being built)."""

urlpatterns: list = []
