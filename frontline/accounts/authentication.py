"""``Authorization: Bearer <token>`` for the API, and token scopes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from frontline.accounts import tokens

# A token must never travel in a URL (logs, referrers, browser history).
_QUERY_TOKEN_PARAMS = {"token", "access_token", "api_key", "apikey", "bearer"}


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        if _QUERY_TOKEN_PARAMS & {k.lower() for k in request.query_params}:
            raise exceptions.AuthenticationFailed(
                _("Send the token in the Authorization header, not the URL.")
            )
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Malformed token."))
        token = tokens.authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return (token.user, token)

    def authenticate_header(self, request):
        return self.keyword


class TokenScopePermission(permissions.BasePermission):
    """A token with only the ``read`` scope can only read; sessions are not limited here."""

    message = _("This token's scopes do not allow this request.")

    def has_permission(self, request, view):
        token = request.auth
        if token is None or not hasattr(token, "scopes"):
            return True
        needed = "read" if request.method in permissions.SAFE_METHODS else "write"
        return needed in token.scopes


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the bearer token in the OpenAPI schema."""

    target_class = "frontline.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`fl_…`) in `Authorization: Bearer <token>`; never in the URL.",
        }
