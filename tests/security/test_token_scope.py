"""SECURITY.md 22, the part accounts/tests/test_tokens.py leaves open: a token carries its
user's scope and nothing more. A customer's token finds no other customer's ticket, and
headers or parameters naming another organisation change nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from frontline.accounts import tokens
from frontline.desk.tests.factories import ticket_for

pytestmark = pytest.mark.django_db

FORGED = {
    "HTTP_X_ORGANIZATION": "{b}",
    "HTTP_X_ORGANIZATION_ID": "{b}",
    "HTTP_X_TENANT": "{b}",
    "HTTP_X_FORWARDED_USER": "admin@t.example",
}


def _bearer(user) -> APIClient:
    _, raw = tokens.create_token(actor=user, user=user, name="脚本")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_customer_token_never_reaches_another_customers_ticket(cast):
    # Given a ticket of each customer and customer A's token, sent with forged headers
    own = ticket_for(cast, customer=cast.customer_a)
    other = ticket_for(cast, customer=cast.customer_b)
    client = _bearer(cast.customer_a_user)
    forged = {k: v.format(b=cast.customer_b.pk) for k, v in FORGED.items()}
    # Then the list holds only A's ticket, whatever the headers or parameters say …
    plain = client.get("/api/v1/tickets/", **forged)
    assert [t["id"] for t in plain.json()["results"]] == [own.pk]
    for params in ({}, {"customer": cast.customer_b.pk}, {"organization": cast.customer_b.pk}):
        listed = client.get("/api/v1/tickets/", params, **forged)
        assert listed.status_code in (200, 400)
        if listed.status_code == 200:
            assert [t["id"] for t in listed.json()["results"]] in ([own.pk], [])
    # … B's ticket is a 404 to read and to write, and /me is still customer A's user
    assert client.get(f"/api/v1/tickets/{other.pk}/", **forged).status_code == 404
    before = type(other).objects.filter(pk=other.pk).values().get()
    reply = client.post(
        f"/api/v1/tickets/{other.pk}/reply/", {"body": "x"}, format="json", **forged
    )
    assert reply.status_code == 404
    assert type(other).objects.filter(pk=other.pk).values().get() == before
    me = client.get("/api/v1/me/", **forged).json()
    assert me["id"] == cast.customer_a_user.pk
