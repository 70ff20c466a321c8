"""Inbox pages, mounted at /inbox/."""

from django.urls import path

from frontline.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("badge/", views.unread_badge, name="unread-badge"),
    path("read-all/", views.mark_all_read, name="mark-all-read"),
    path("<str:pk>/read/", views.mark_read, name="mark-read"),
    path("<str:pk>/unread/", views.mark_unread, name="mark-unread"),
]
