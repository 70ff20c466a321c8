"""The API describes itself: an OpenAPI schema and a Swagger UI that run under our CSP."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_schema_lists_the_foundation_endpoints(api, cast):
    response = api.as_user(cast.agent).get(reverse("api-v1:schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in [
        "/api/v1/organizations/",
        "/api/v1/users/",
        "/api/v1/memberships/",
        "/api/v1/teams/",
        "/api/v1/sites/",
        "/api/v1/projects/",
        "/api/v1/asset-models/",
        "/api/v1/assets/",
        "/api/v1/me/",
    ]:
        assert endpoint in paths, endpoint
    assert response.json()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_swagger_ui_is_served_locally_without_inline_script(client, cast):
    client.force_login(cast.agent)
    response = client.get(reverse("api-v1:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "cdn" not in html.lower() and "unpkg" not in html.lower() and "jsdelivr" not in html.lower()
    )
    # Every script tag has a src: the CSP (script-src 'self') would block inline code anyway.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_schema_is_public_like_the_repository_it_comes_from(client, cast):
    # The schema is committed in the open-source repository, so serving it holds no secret;
    # the data behind it still needs a token or a session.
    assert client.get(reverse("api-v1:schema")).status_code == 200
    assert client.get("/api/v1/sites/").status_code == 401
