"""views_board routes (being built)."""

urlpatterns: list = []
