"""A deactivated customer organisation's people see nothing of it; bad inbox filters are 400s."""

from __future__ import annotations

import pytest

from frontline.accounts.models import Organization
from frontline.desk.models import Ticket
from frontline.desk.tests.factories import TicketFactory
from frontline.sites.models import Site
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_a_deactivated_customer_sees_no_sites_or_tickets(cast, api):
    # Given customer A with a site and a ticket, then deactivated by the operator
    f.SiteFactory(customer=cast.customer_a)
    TicketFactory(customer=cast.customer_a)
    assert Site.objects.visible_to(cast.customer_a_user).count() == 1
    Organization.objects.filter(pk=cast.customer_a.pk).update(is_active=False)
    user = type(cast.customer_a_user).objects.get(pk=cast.customer_a_user.pk)

    # Then its people see nothing, by queryset, API and page
    assert Site.objects.visible_to(user).count() == 0
    assert Ticket.objects.visible_to(user).count() == 0
    client = api.as_user(user)
    assert client.get("/api/v1/sites/").json()["count"] == 0
    assert client.get("/api/v1/tickets/").json()["count"] == 0
    # ... while the operator still sees everything
    assert Ticket.objects.visible_to(cast.agent).count() == 1


def test_an_unreadable_unread_filter_is_a_400(cast, api):
    response = api.as_user(cast.agent).get("/api/v1/notifications/", {"unread": "maybe"})
    assert response.status_code == 400
    assert "unread" in response.json()["fields"]


def test_the_inbox_still_filters_unread(cast, api):
    response = api.as_user(cast.agent).get("/api/v1/notifications/", {"unread": "true"})
    assert response.status_code == 200


def test_a_customer_never_sees_the_owners_email(cast, api):
    # Given a ticket owned by someone without a display name
    ticket = TicketFactory(customer=cast.customer_a)
    type(ticket.owner).objects.filter(pk=ticket.owner_id).update(display_name="")

    body = api.as_user(cast.customer_a_user).get(f"/api/v1/tickets/{ticket.pk}/").json()

    assert body["owner_name"] == "Service team"
    assert ticket.owner.email not in str(body)
