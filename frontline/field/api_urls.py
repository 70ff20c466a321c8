"""Field service API routes, one module per topic (each defines ``urlpatterns``)."""

from frontline.field import api_engineers, api_orders, api_reports, api_rules, api_surveys

urlpatterns = [
    *api_orders.urlpatterns,
    *api_engineers.urlpatterns,
    *api_rules.urlpatterns,
    *api_surveys.urlpatterns,
    *api_reports.urlpatterns,
]
