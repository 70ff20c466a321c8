"""Field service pages, one module per topic (each defines ``urlpatterns``)."""

from frontline.field import (
    views_board,
    views_engineers,
    views_mobile,
    views_orders,
    views_portal,
    views_public,
    views_reports,
    views_rules,
)

app_name = "field"

urlpatterns = [
    *views_orders.urlpatterns,
    *views_engineers.urlpatterns,
    *views_board.urlpatterns,
    *views_rules.urlpatterns,
    *views_mobile.urlpatterns,
    *views_portal.urlpatterns,
    *views_public.urlpatterns,
    *views_reports.urlpatterns,
]
