"""Inspection pages, one module per topic (each defines ``urlpatterns``)."""

from frontline.inspections import views_analysis, views_mobile, views_rounds, views_routes

app_name = "inspections"

urlpatterns = [
    *views_routes.urlpatterns,
    *views_rounds.urlpatterns,
    *views_mobile.urlpatterns,
    *views_analysis.urlpatterns,
]
