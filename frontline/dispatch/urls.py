"""Dispatch planning pages."""

from frontline.dispatch import views

app_name = "dispatch"

urlpatterns = [*views.urlpatterns]
