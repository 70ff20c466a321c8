"""Incentive pages under /incentives/."""

from django.urls import path

from frontline.incentives import views, views_admin

app_name = "incentives"

urlpatterns = [
    path("", views.LeaderboardView.as_view(), name="leaderboard"),
    path("me/", views.MyPointsView.as_view(), name="my-points"),
    path("rules/", views_admin.RuleListView.as_view(), name="rule-list"),
    path("rules/new/", views_admin.RuleCreateView.as_view(), name="rule-create"),
    path("rules/<str:pk>/edit/", views_admin.RuleEditView.as_view(), name="rule-edit"),
    path("settings/", views_admin.SettingsView.as_view(), name="settings"),
    path("redemptions/", views_admin.RedemptionListView.as_view(), name="redemption-list"),
    path(
        "redemptions/export/", views_admin.RedemptionExportView.as_view(), name="redemption-export"
    ),
    path(
        "redemptions/<str:pk>/<str:verb>/",
        views_admin.RedemptionDecideView.as_view(),
        name="redemption-decide",
    ),
]
