"""views_orders routes (being built)."""

urlpatterns: list = []
