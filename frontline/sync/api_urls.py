"""Offline sync API routes: the outbox batch, and resumable photo uploads after it."""

from django.urls import path

from frontline.sync import api, api_uploads

urlpatterns = [
    path("sync/", api.SyncView.as_view(), name="sync"),
    path("sync/uploads/", api_uploads.SyncUploadsView.as_view(), name="sync-uploads"),
    path(
        "sync/uploads/<uuid:client_id>/",
        api_uploads.SyncUploadView.as_view(),
        name="sync-upload",
    ),
]
