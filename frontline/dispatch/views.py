"""views routes (being built)."""

urlpatterns: list = []
