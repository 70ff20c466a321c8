"""Dispatch planning API routes."""

from frontline.dispatch import api

urlpatterns = [*api.urlpatterns]
