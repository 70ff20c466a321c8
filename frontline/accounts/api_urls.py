from django.urls import path
from rest_framework.routers import SimpleRouter

from frontline.accounts import api

router = SimpleRouter()
router.register("organizations", api.OrganizationViewSet, basename="organization")
router.register("users", api.UserViewSet, basename="user")
router.register("memberships", api.MembershipViewSet, basename="membership")
router.register("teams", api.TeamViewSet, basename="team")
router.register("tokens", api.ApiTokenViewSet, basename="token")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    *router.urls,
]
