"""The customer portal: customer A's people submit and follow their organisation's tickets.

They see public replies only (never internal notes, fire calls or internal files),
never another organisation's tickets (404 on every page and POST), and may set only
what the portal offers. Staff who open a portal address land on the staff page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from frontline.desk.models import Attachment, Ticket, TicketEvent
from frontline.desk.states import EventKind, TicketStatus
from frontline.desk.tests import factories as df
from frontline.desk.tests import test_pages
from frontline.desk.tests.test_pages import NOTE_TEXT, REPLY_TEXT, text
from frontline.testing import factories as f

CUSTOMERS_A = ["customer_a_admin", "customer_a_user"]
STAFF = ["admin", "manager", "dispatcher", "agent", "engineer", "analyst"]
NOBODY = ["partner_admin", "partner_engineer", "supplier_contact", "outsider"]
POSTS = ["reply", "confirm", "reopen", "rate"]

# The story's world (customer A's and B's tickets), shared with the page tests.
desk = test_pages.desk


def purl(ticket, action: str = "") -> str:
    return f"/portal/tickets/{ticket.pk}/" + (f"{action}/" if action else "")


def snapshot(ticket):
    return (
        Ticket.objects.filter(pk=ticket.pk).values().get(),
        TicketEvent.objects.filter(ticket=ticket).count(),
        Attachment.objects.filter(ticket=ticket).count(),
    )


def resolve(ticket, *, days_ago: float = 0) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.RESOLVED, resolved_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    ticket.refresh_from_db()


# ---------------------------------------------------------------- who may open the portal


@pytest.mark.parametrize("role", CUSTOMERS_A)
def test_customer_a_lists_and_opens_only_its_own_tickets(client, cast, desk, role):
    client.force_login(cast.by_role(role))
    response = client.get("/portal/tickets/")
    assert response.status_code == 200
    assert [t.pk for t in response.context["object_list"]] == [desk.ticket_a.pk]
    assert desk.ticket_b.title not in text(response)
    assert client.get(purl(desk.ticket_a)).status_code == 200
    assert client.get("/portal/tickets/new/").status_code == 200


@pytest.mark.parametrize("role", [*CUSTOMERS_A, "customer_b_admin"])
def test_another_customers_ticket_is_404_on_every_page_and_post(client, cast, desk, role):
    # Given a customer user and the other customer's ticket (resolved, so every action applies)
    user = cast.by_role(role)
    other = desk.ticket_b if user.organization_id == cast.customer_a.pk else desk.ticket_a
    resolve(other)
    before = snapshot(other)
    client.force_login(user)
    # Then it does not exist for them, whatever they try
    assert client.get(purl(other)).status_code == 404
    data = {"reply-body": "x", "reopen-reason": "x", "rate-rating": "5"}
    for action in POSTS:
        assert client.post(purl(other, action), data).status_code == 404, action
    assert snapshot(other) == before


@pytest.mark.parametrize("role", STAFF)
def test_staff_on_a_portal_address_land_on_the_staff_page(client, cast, desk, role):
    client.force_login(cast.by_role(role))
    assert client.get("/portal/tickets/")["Location"] == "/tickets/"
    assert client.get("/portal/tickets/new/")["Location"] == "/tickets/new/"
    response = client.get(purl(desk.ticket_a))
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{desk.ticket_a.pk}/"


@pytest.mark.parametrize("role", NOBODY)
def test_partners_suppliers_and_outsiders_find_no_portal(client, cast, desk, role):
    client.force_login(cast.by_role(role))
    for url in ("/portal/tickets/", "/portal/tickets/new/", purl(desk.ticket_a)):
        assert client.get(url).status_code == 404, url
    assert client.post(purl(desk.ticket_a, "reply"), {"reply-body": "x"}).status_code == 404


@pytest.mark.parametrize("url", ["/portal/tickets/", "/portal/tickets/new/", "/portal/tickets/1/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, desk, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- what a customer sees


def test_the_customer_never_sees_internal_notes_events_or_files(client, cast, desk):
    # Given an internal note, a fire call and an internal attachment on A's ticket
    df.TicketEventFactory(
        ticket=desk.ticket_a, kind=EventKind.FIRE_CALLED, body="<p>全员集合：机房起火</p>"
    )
    internal = df.AttachmentFactory(ticket=desk.ticket_a, name="内部诊断.txt", public=False)
    public = df.AttachmentFactory(ticket=desk.ticket_a, name="现场照片.txt", public=True)
    client.force_login(cast.customer_a_user)
    # When the customer opens it in the portal
    body = text(client.get(purl(desk.ticket_a)))
    # Then the public reply and file are there, and nothing internal is
    assert REPLY_TEXT in body
    assert NOTE_TEXT not in body
    assert "全员集合" not in body
    assert "内部诊断.txt" not in body
    assert f"/api/v1/attachments/{internal.pk}/" not in body
    assert f'href="/api/v1/attachments/{public.pk}/download/"' in body


def test_a_customer_reply_is_public_and_shows_up(client, cast, desk):
    client.force_login(cast.customer_a_user)
    response = client.post(purl(desk.ticket_a, "reply"), {"reply-body": "补充：报警代码 E12"})
    assert response.status_code == 302
    event = TicketEvent.objects.filter(ticket=desk.ticket_a, kind=EventKind.REPLY).last()
    assert event.public and event.author == cast.customer_a_user
    assert "E12" in text(client.get(purl(desk.ticket_a)))


def test_submitting_a_ticket_with_a_file(client, cast, desk):
    site = f.SiteFactory(customer=cast.customer_a, name="二号厂区")
    client.force_login(cast.customer_a_user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "title": "空调不制冷",
            "description": "<p>从早上开始</p>",
            "severity": "S4",
            "site": site.pk,
            "files": [SimpleUploadedFile("报警记录.txt", "E12 高压报警\n".encode(), "text/plain")],
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="空调不制冷")
    assert response["Location"] == purl(ticket)
    assert (ticket.customer, ticket.site, ticket.severity, ticket.channel) == (
        cast.customer_a,
        site,
        "S4",
        "portal",
    )
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.name == "报警记录.txt" and attachment.public


def test_the_portal_offers_only_the_severities_customers_may_choose(client, cast, desk):
    client.force_login(cast.customer_a_user)
    form = client.get("/portal/tickets/new/").context["form"]
    assert [v for v, _label in form.fields["severity"].choices] == ["S3", "S4"]
    # and a forged S1 is refused, nothing created
    count = Ticket.objects.count()
    response = client.post(
        "/portal/tickets/new/", {"title": "伪造", "description": "x", "severity": "S1"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["severity"]
    assert Ticket.objects.count() == count


def test_a_customer_cannot_pick_another_customers_site_or_set_staff_fields(client, cast, desk):
    site_b = f.SiteFactory(customer=cast.customer_b)
    client.force_login(cast.customer_a_user)
    count = Ticket.objects.count()
    response = client.post(
        "/portal/tickets/new/",
        {"title": "越权", "description": "x", "severity": "S3", "site": site_b.pk},
    )
    assert response.status_code == 200 and response.context["form"].errors["site"]
    assert Ticket.objects.count() == count
    # Fields the portal does not offer are ignored
    client.post(
        "/portal/tickets/new/",
        {
            "title": "只填允许的",
            "description": "x",
            "severity": "S3",
            "owner": cast.manager.pk,
            "status": "closed",
            "customer": cast.customer_b.pk,
        },
    )
    ticket = Ticket.objects.get(title="只填允许的")
    assert ticket.customer == cast.customer_a
    assert ticket.status == TicketStatus.NEW
    assert ticket.owner != cast.manager


# ---------------------------------------------------------------- confirm, reopen, rate


def test_the_customer_confirms_a_resolution(client, cast, desk):
    resolve(desk.ticket_a)
    client.force_login(cast.customer_a_user)
    assert 'data-testid="confirm-form"' in text(client.get(purl(desk.ticket_a)))
    client.post(purl(desk.ticket_a, "confirm"))
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.status == TicketStatus.CLOSED


def test_the_customer_reopens_within_the_period(client, cast, desk):
    resolve(desk.ticket_a, days_ago=1)
    client.force_login(cast.customer_a_user)
    client.post(purl(desk.ticket_a, "reopen"), {"reopen-reason": "又开始报警了"})
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.status == TicketStatus.REOPENED


def test_reopening_after_the_period_is_refused_with_the_reason(client, cast, desk):
    resolve(desk.ticket_a, days_ago=60)
    before = snapshot(desk.ticket_a)
    client.force_login(cast.customer_a_user)
    response = client.post(purl(desk.ticket_a, "reopen"), {"reopen-reason": "还是不行"})
    assert response.status_code == 409
    assert response.context["forms"]["reopen"].non_field_errors()
    assert snapshot(desk.ticket_a) == before


def test_confirming_an_open_ticket_is_refused(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.customer_a_user)
    assert client.post(purl(desk.ticket_a, "confirm")).status_code == 409
    assert snapshot(desk.ticket_a) == before


def test_the_customer_rates_once_from_1_to_5(client, cast, desk):
    resolve(desk.ticket_a)
    client.force_login(cast.customer_a_user)
    bad = client.post(purl(desk.ticket_a, "rate"), {"rate-rating": "6"})
    assert bad.status_code == 400
    client.post(purl(desk.ticket_a, "rate"), {"rate-rating": "4", "rate-comment": "响应很快"})
    desk.ticket_a.refresh_from_db()
    assert (desk.ticket_a.rating, desk.ticket_a.rating_comment) == (4, "响应很快")
    again = client.post(purl(desk.ticket_a, "rate"), {"rate-rating": "1"})
    assert again.status_code == 409
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.rating == 4


# ---------------------------------------------------------------- safety


def test_the_portal_escapes_titles_and_sanitises_replies(client, cast, desk):
    from frontline.desk import tickets

    evil = df.TicketFactory(
        customer=cast.customer_a, owner=cast.agent, title='"><script>alert(1)</script>'
    )
    tickets.reply(actor=cast.agent, ticket=evil, body="<img src=x onerror=alert(1)>好")
    client.force_login(cast.customer_a_user)
    for url in ("/portal/tickets/", purl(evil)):
        body = text(client.get(url))
        assert "<script>alert(1)</script>" not in body
        assert "onerror" not in body
        assert "&lt;script&gt;" in body


@pytest.mark.parametrize("action", POSTS)
def test_portal_posts_need_the_csrf_token(cast, desk, action):
    resolve(desk.ticket_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.customer_a_user)
    before = snapshot(desk.ticket_a)
    data = {"reply-body": "x", "reopen-reason": "x", "rate-rating": "5"}
    assert client.post(purl(desk.ticket_a, action), data).status_code == 403
    assert snapshot(desk.ticket_a) == before


def test_the_portal_list_does_not_grow_with_rows(client, cast, desk, django_assert_max_num_queries):
    for _ in range(30):
        df.TicketFactory(customer=cast.customer_a, site=f.SiteFactory(customer=cast.customer_a))
    client.force_login(cast.customer_a_user)
    with django_assert_max_num_queries(PORTAL_LIST_MAX):
        response = client.get("/portal/tickets/")
    assert len(response.context["object_list"]) == 25
    with django_assert_max_num_queries(PORTAL_LIST_MAX):
        partial = client.get("/portal/tickets/", headers={"HX-Request": "true"})
    assert "<html" not in text(partial)


def test_the_portal_ticket_page_does_not_grow_with_events(
    client, cast, desk, django_assert_max_num_queries
):
    for _ in range(20):
        df.TicketEventFactory(ticket=desk.ticket_a, kind=EventKind.REPLY, public=True)
        df.AttachmentFactory(ticket=desk.ticket_a)
    client.force_login(cast.customer_a_user)
    with django_assert_max_num_queries(PORTAL_DETAIL_MAX):
        assert client.get(purl(desk.ticket_a)).status_code == 200


def test_the_portal_list_filters_open_and_done(client, cast, desk):
    done = df.TicketFactory(customer=cast.customer_a, status=TicketStatus.CLOSED)
    client.force_login(cast.customer_a_user)
    opened = client.get("/portal/tickets/", {"status": "open"}).context["object_list"]
    closed = client.get("/portal/tickets/", {"status": "done"}).context["object_list"]
    assert [t.pk for t in opened] == [desk.ticket_a.pk]
    assert [t.pk for t in closed] == [done.pk]


# Session, user, inbox badge, the count and the rows: a baseline.
PORTAL_LIST_MAX = 5
PORTAL_DETAIL_MAX = 7
