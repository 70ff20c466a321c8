from django.urls import path

from frontline.accounts import views

app_name = "accounts"
urlpatterns = [
    path("teams/", views.TeamListView.as_view(), name="team-list"),
    path("teams/new/", views.TeamCreateView.as_view(), name="team-create"),
    path("teams/<str:pk>/", views.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<str:pk>/edit/", views.TeamEditView.as_view(), name="team-edit"),
    path("teams/<str:pk>/delete/", views.TeamDeleteView.as_view(), name="team-delete"),
    path("tokens/", views.TokenListView.as_view(), name="token-list"),
    path("tokens/<str:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
]
