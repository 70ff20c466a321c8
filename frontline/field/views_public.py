"""views_public routes (being built)."""

urlpatterns: list = []
