"""views_mobile routes (being built)."""

urlpatterns: list = []
