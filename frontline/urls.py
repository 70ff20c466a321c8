from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from frontline import views
from frontline.accounts.forms import LoginForm
from frontline.accounts.views import ThrottledPasswordResetView
from frontline.core import views as core_views
from frontline.core.metrics import metrics_view

api_v1 = [
    path("", include("frontline.accounts.api_urls")),
    path("", include("frontline.sites.api_urls")),
    path("", include("frontline.desk.api_urls")),
    path("", include("frontline.field.api_urls")),
    path("dispatch/", include("frontline.dispatch.api_urls")),
    path("", include("frontline.inspections.api_urls")),
    path("", include("frontline.incentives.api_urls")),
    path("", include("frontline.sync.api_urls")),
    path("", include("frontline.notifications.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema"), name="docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", core_views.favicon),
    path("i18n/set-language/", core_views.set_language, name="set-language"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("people/", include("frontline.accounts.urls")),
    path("", include("frontline.sites.urls")),
    path("", include("frontline.desk.urls")),
    path("", include("frontline.sync.pwa")),
    path("", include("frontline.field.urls")),
    path("dispatch/", include("frontline.dispatch.urls")),
    path("inspections/", include("frontline.inspections.urls")),
    path("incentives/", include("frontline.incentives.urls")),
    path("inbox/", include("frontline.notifications.urls")),
    path("api/v1/", include((api_v1, "api-v1"))),
    path("admin/", admin.site.urls),
]

handler404 = core_views.not_found
