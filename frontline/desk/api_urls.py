"""Desk API routes, one module per topic (each defines ``urlpatterns``)."""

from frontline.desk import api, api_fire, api_problems, api_sla

urlpatterns = [
    *api.urlpatterns,
    *api_fire.urlpatterns,
    *api_sla.urlpatterns,
    *api_problems.urlpatterns,
]
