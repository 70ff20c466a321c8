"""A URL under /api/ that matches no route answers with the API's JSON error, not a page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/surveys/5H/",  # the id must be a number: no route matches
        "/api/v1/routes/%0D/checkpoints/",
        "/api/v1/schedules/%C2%94/",
        "/api/v1/no-such-thing/",
    ],
)
def test_unrouted_api_url_is_a_json_404(cast, api, path):
    response = api.as_user(cast.admin).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


def test_unrouted_page_url_is_still_a_page(cast, client):
    client.force_login(cast.admin)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
