"""Inspection API routes, one module per topic (each defines ``urlpatterns``)."""

from frontline.inspections import api_analysis, api_anomalies, api_rounds, api_routes

urlpatterns = [
    *api_routes.urlpatterns,
    *api_rounds.urlpatterns,
    *api_anomalies.urlpatterns,
    *api_analysis.urlpatterns,
]
