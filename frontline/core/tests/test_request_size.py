"""Oversized bodies are refused with 413 before sessions, CSRF or parsers read them."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_an_oversized_api_body_is_a_413_in_the_error_format(settings, cast):
    settings.MAX_REQUEST_BYTES = 1024
    client = Client()
    client.force_login(cast.customer_a_user)
    response = client.post(
        "/api/v1/tickets/", data=b"x" * 2048, content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


@pytest.mark.django_db
def test_an_oversized_page_post_is_refused_before_the_csrf_check_parses_it(settings, cast):
    settings.MAX_REQUEST_BYTES = 1024
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.customer_a_user)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n\r\n'
        + b"%" * 4096
        + b"\r\n--b--\r\n"
    )
    response = client.post(
        "/portal/tickets/new/", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 413


@pytest.mark.django_db
def test_a_body_within_the_limit_goes_through(settings, cast, api):
    settings.MAX_REQUEST_BYTES = 10 * 1024
    response = api.as_user(cast.manager).get("/api/v1/me/")
    assert response.status_code == 200


def test_a_garbage_content_length_is_a_400(rf):
    from frontline.core.middleware import RequestSizeLimitMiddleware

    request = rf.post("/api/v1/tickets/", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = "12abc"
    response = RequestSizeLimitMiddleware(lambda r: None)(request)
    assert response.status_code == 400
