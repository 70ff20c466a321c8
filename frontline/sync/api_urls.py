"""Offline sync API route."""

from django.urls import path

from frontline.sync import api

urlpatterns = [path("sync/", api.SyncView.as_view(), name="sync")]
