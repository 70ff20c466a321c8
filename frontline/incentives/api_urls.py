"""Incentives API routes: point rules, points, leaderboard, redemptions."""

from django.urls import path

from frontline.incentives import api

urlpatterns = [
    *api.urlpatterns,
    path("leaderboard/", api.LeaderboardApi.as_view(), name="leaderboard"),
]
