"""Cross-cutting HTTP behaviour: the CSP and request ids."""

from __future__ import annotations

import re

import pytest


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.django_db
def test_csp_on_a_page_forbids_inline_script(client):
    # The admin sign-in page is an HTML page that exists whatever else is built.
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["default-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_csp_forbids_inline_script_on_the_home_page(client, cast):
    client.force_login(cast.dispatcher)

    response = client.get("/")

    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]
    # And the page itself carries no inline script for the CSP to block.
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())
    assert [s for s in scripts if "application/json" not in s] == []


@pytest.mark.django_db
def test_a_well_formed_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "req-2026.11_abc123"})

    assert response["X-Request-ID"] == "req-2026.11_abc123"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    [
        "abc\r\nX-Injected: 1",
        "<script>alert(1)</script>",
        "id with spaces in it",
        "x" * 65,
        "short",
        "../../etc/passwd",
    ],
)
def test_a_malicious_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    echoed = response["X-Request-ID"]
    assert echoed != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


@pytest.mark.django_db
def test_every_response_gets_a_fresh_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert first != second
