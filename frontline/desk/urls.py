"""Desk pages, one module per topic (each defines ``urlpatterns``); mounted at the site root."""

from frontline.desk import views, views_fire, views_portal, views_problems, views_sla

app_name = "desk"
urlpatterns = [
    *views.urlpatterns,
    *views_fire.urlpatterns,
    *views_sla.urlpatterns,
    *views_portal.urlpatterns,
    *views_problems.urlpatterns,
]
