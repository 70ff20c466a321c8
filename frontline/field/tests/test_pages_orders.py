"""Work-order pages: who sees which page, scoping across organisations, downloads,
creating from a ticket, escaping, and bounded query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.desk.tests import factories as df
from frontline.field import services
from frontline.field.models import WorkOrder, WorkOrderEvent
from frontline.field.tests.factories import WorkOrderFactory, engineer
from frontline.field.tests.factories_pages import photo, signature, story
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

LIST_MAX = 14


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def s(cast):
    return story(cast)


def _get(client, user, url, **kw):
    if user is not None:
        client.force_login(user)
    return client.get(url, **kw)


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize(
    "role, expected",
    [
        ("dispatcher", 200),
        ("engineer", 200),
        ("agent", 200),
        ("analyst", 200),
        ("customer_a_admin", 200),
        ("customer_b_admin", 404),
        ("partner_admin", 404),
        ("partner_engineer", 404),
        ("supplier_contact", 404),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_detail_of_a_customer_a_order(client, cast, s, role, expected):
    user = cast.by_role(role) if role else None
    response = _get(client, user, s.wo_a.get_absolute_url())
    assert response.status_code == expected


@pytest.mark.parametrize(
    "role, expected",
    [
        ("dispatcher", 200),
        ("customer_a_user", 200),
        ("customer_b_admin", 404),
        ("partner_admin", 200),
        ("partner_engineer", 200),
        ("outsider", 404),
    ],
)
def test_detail_of_a_partner_order(client, cast, s, role, expected):
    assert _get(client, cast.by_role(role), s.wo_partner.get_absolute_url()).status_code == expected


def test_another_outlet_never_sees_the_order(client, cast, s):
    other_admin = f.member("partner_admin")  # an admin of another outlet
    assert _get(client, other_admin, s.wo_partner.get_absolute_url()).status_code == 404
    response = _get(client, other_admin, reverse("field:work-order-list") + "?queue=all")
    assert s.wo_partner.number not in response.content.decode()


@pytest.mark.parametrize(
    "role, expected",
    [
        ("dispatcher", 200),
        ("engineer", 200),
        ("agent", 200),
        ("customer_a_admin", 200),
        ("partner_admin", 200),
        ("partner_engineer", 200),
        ("supplier_contact", 404),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_list_by_role(client, cast, s, role, expected):
    user = cast.by_role(role) if role else None
    assert _get(client, user, reverse("field:work-order-list")).status_code == expected


@pytest.mark.parametrize(
    "role, sees",
    [
        ("dispatcher", {"wo_a", "wo_b", "wo_partner"}),
        ("customer_a_admin", {"wo_a", "wo_partner"}),
        ("customer_b_admin", {"wo_b"}),
        ("partner_admin", {"wo_partner"}),
    ],
)
def test_list_shows_only_what_one_may_see(client, cast, s, role, sees):
    body = _get(client, cast.by_role(role), reverse("field:work-order-list") + "?queue=all")
    text = body.content.decode()
    for name in ("wo_a", "wo_b", "wo_partner"):
        assert (getattr(s, name).number in text) is (name in sees), name


def test_customer_sees_no_internal_fields(client, cast, s):
    text = _get(client, cast.customer_a_admin, s.wo_partner.get_absolute_url()).content.decode()
    assert 'data-testid="partner"' not in text and 'data-testid="skills"' not in text
    text = _get(client, cast.customer_a_admin, s.wo_a.get_absolute_url()).content.decode()
    assert "内部备注" not in text
    assert 'data-public="false"' not in text
    assert 'data-testid="dispatch-actions"' not in text and 'data-testid="note-card"' not in text


def test_staff_see_the_internal_note_and_actions(client, cast, s):
    text = _get(client, cast.dispatcher, s.wo_a.get_absolute_url()).content.decode()
    assert "内部备注" in text and 'data-public="false"' in text
    assert 'data-testid="dispatch-actions"' in text


def test_customer_filters_are_limited_and_internal_filter_is_refused(client, cast, s):
    url = reverse("field:work-order-list")
    ok = _get(client, cast.customer_a_admin, url + "?status=new&queue=all")
    assert ok.status_code == 200
    text = _get(client, cast.customer_a_admin, url + "?assignee=1").content.decode()
    assert 'name="assignee"' not in text


@pytest.mark.parametrize("bad", ["abc", "0", "99999999999999999999999", "1%00"])
def test_malformed_ids_are_404(client, cast, s, bad):
    assert _get(client, cast.dispatcher, f"/work-orders/{bad}/").status_code == 404


def test_invalid_filter_shows_nothing(client, cast, s):
    response = _get(client, cast.dispatcher, reverse("field:work-order-list") + "?mine=perhaps")
    assert response.status_code == 200
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert s.wo_a.number not in response.content.decode()


def test_timeline_shows_check_in_distance_and_gps(client, cast, s):
    eng = cast.engineer
    services.accept(actor=eng, work_order=s.wo_a)
    services.check_in(actor=eng, work_order=s.wo_a, latitude="31.30", longitude="121.70")
    text = _get(client, cast.dispatcher, s.wo_a.get_absolute_url()).content.decode()
    assert 'data-flagged="true"' in text and 'data-testid="gps"' in text
    assert "openstreetmap.org/?mlat=31.3" in text
    customer = _get(client, cast.customer_a_admin, s.wo_a.get_absolute_url()).content.decode()
    assert 'data-testid="gps"' not in customer and "check-in-distance" not in customer


# ---------------------------------------------------------------- downloads


def test_photo_download_is_scoped_and_safe(client, cast, s, media):
    p = photo(s.wo_a, name='"; filename=evil.html')
    url = reverse("field:photo-download", args=[p.pk])
    response = _get(client, cast.dispatcher, url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert 'filename="__ filename=evil.html"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert _get(client, cast.customer_a_user, url).status_code == 200
    for role in ("customer_b_admin", "partner_admin", "outsider"):
        assert _get(client, cast.by_role(role), url).status_code == 404, role
    client.logout()
    assert client.get(url).status_code == 302


def test_photo_thumbnail_on_the_page(client, cast, s, media):
    p = photo(s.wo_a)
    text = _get(client, cast.dispatcher, s.wo_a.get_absolute_url()).content.decode()
    assert reverse("field:photo-download", args=[p.pk]) in text


def test_signature_download_is_scoped(client, cast, s, media):
    url = reverse("field:signature-download", args=[s.wo_partner.pk])
    assert _get(client, cast.dispatcher, url).status_code == 404  # not signed yet
    signature(s.wo_partner)
    response = _get(client, cast.partner_engineer, url)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert _get(client, cast.customer_b_admin, url).status_code == 404
    assert _get(client, cast.outsider, url).status_code == 404


# ---------------------------------------------------------------- create


@pytest.mark.parametrize(
    "role, expected",
    [
        ("dispatcher", 200),
        ("manager", 200),
        ("agent", 403),
        ("engineer", 403),
        ("customer_a_admin", 403),
        ("partner_admin", 403),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_create_page_by_role(client, cast, role, expected):
    user = cast.by_role(role) if role else None
    assert _get(client, user, reverse("field:work-order-create")).status_code == expected


def test_create_from_ticket(client, cast):
    site = f.SiteFactory(customer=cast.customer_a)
    asset = f.AssetFactory(site=site)
    ticket = df.TicketFactory(customer=cast.customer_a, site=site, asset=asset, owner=cast.agent)
    url = reverse("field:work-order-create") + f"?ticket={ticket.pk}"
    client.force_login(cast.agent)  # an agent works tickets: may send a technician for one
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["customer"] == cast.customer_a.pk and form.initial["site"] == site.pk
    assert form.initial["asset"] == asset.pk and form.initial["title"] == ticket.title
    response = client.post(url, {
        "ticket_id": ticket.pk, "title": ticket.title, "type": "repair",
        "customer": cast.customer_a.pk, "site": site.pk, "asset": asset.pk,
        "priority": "high", "min_level": 1, "estimated_minutes": 90,
    })  # fmt: skip
    assert response.status_code == 302
    wo = WorkOrder.objects.get(ticket=ticket)
    assert response["Location"] == wo.get_absolute_url()
    assert (wo.customer, wo.site, wo.asset, wo.priority) == (cast.customer_a, site, asset, "high")
    assert ticket.events.filter(kind="work_order").exists()
    ticket_page = client.get(ticket.get_absolute_url()).content.decode()
    assert wo.number in ticket_page and 'data-testid="create-work-order"' in ticket_page


def test_create_from_another_customers_hidden_ticket_is_404(client, cast):
    ticket = df.TicketFactory(customer=cast.customer_b)
    client.force_login(cast.customer_a_admin)
    response = client.get(reverse("field:work-order-create") + f"?ticket={ticket.pk}")
    assert response.status_code == 404
    client.force_login(cast.dispatcher)
    assert client.get(reverse("field:work-order-create") + "?ticket=abc").status_code == 404


def test_create_refusal_shows_the_service_message(client, cast):
    site_b = f.SiteFactory(customer=cast.customer_b)
    client.force_login(cast.dispatcher)
    response = client.post(reverse("field:work-order-create"), {
        "title": "x", "type": "repair", "customer": cast.customer_a.pk, "site": site_b.pk,
        "priority": "normal", "min_level": 1, "estimated_minutes": 60,
    })  # fmt: skip
    assert response.status_code == 200
    assert "This site belongs to another customer." in response.content.decode()
    assert not WorkOrder.objects.exists()


def test_create_with_skills_and_window(client, cast):
    skill = f.SkillFactory(code="hv")
    site = f.SiteFactory(customer=cast.customer_a)
    client.force_login(cast.dispatcher)
    response = client.post(reverse("field:work-order-create"), {
        "title": "高压柜", "type": "maintenance", "customer": cast.customer_a.pk,
        "site": site.pk, "priority": "urgent", "skills": [skill.pk], "min_level": 3,
        "estimated_minutes": 120, "window_start": "2026-12-01T09:00",
        "window_end": "2026-12-01T08:00",
    })  # fmt: skip
    assert "The window must end after it starts." in response.content.decode()
    assert not WorkOrder.objects.exists()


# ---------------------------------------------------------------- escaping


XSS = '"><script>alert(1)</script>{{7*7}}'


def test_title_and_notes_are_escaped(client, cast):
    site = f.SiteFactory(customer=cast.customer_a, name=XSS)
    wo = services.create_work_order(actor=cast.dispatcher, title=XSS, site=site,
                                     description="<p>ok</p><script>alert(2)</script>")  # fmt: skip
    services.add_note(actor=cast.dispatcher, work_order=wo, body=XSS)
    for url in (wo.get_absolute_url(), reverse("field:work-order-list")):
        text = _get(client, cast.dispatcher, url).content.decode()
        assert "<script>alert(" not in text, url
        assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in text, url


# ---------------------------------------------------------------- query counts


def _many(cast, n=25):
    eng = engineer(user=cast.engineer)
    team = f.TeamFactory() if hasattr(f, "TeamFactory") else None
    for i in range(n):
        site = f.SiteFactory(customer=cast.customer_a)
        WorkOrderFactory(site=site, assignee=eng if i % 2 else None, team=team,
                         partner=cast.partner if i % 3 == 0 else None,
                         created_by=cast.dispatcher)  # fmt: skip


@pytest.mark.parametrize("role", ["dispatcher", "customer_a_admin", "partner_admin"])
def test_list_query_count_is_bounded(client, cast, django_assert_max_num_queries, role):
    _many(cast)
    client.force_login(cast.by_role(role))
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(reverse("field:work-order-list") + "?queue=all&sort=priority_rank")
    assert response.status_code == 200


def test_list_filters_and_htmx_partial(client, cast, django_assert_max_num_queries):
    _many(cast)
    client.force_login(cast.dispatcher)
    url = reverse("field:work-order-list")
    query = f"?queue=all&assignee={cast.engineer.pk}&status=new&priority=normal&q=冷水&sort=-number"
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(url + query, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert text.count("data-work-order-id") == 12


def test_detail_query_count_does_not_grow_with_events(
    client, cast, s, django_assert_max_num_queries
):
    for i in range(20):
        services.add_note(actor=cast.dispatcher, work_order=s.wo_a, body=f"note {i}")
    assert WorkOrderEvent.objects.filter(work_order=s.wo_a).count() > 20
    client.force_login(cast.dispatcher)
    with django_assert_max_num_queries(22):
        response = client.get(s.wo_a.get_absolute_url())
    assert response.status_code == 200


# ---------------------------------------------------------------- navigation and filters


def test_navigation_by_capability(client, cast, s):
    text = _get(client, cast.dispatcher, "/").content.decode()
    assert reverse("field:work-order-list") in text and reverse("field:engineer-list") in text
    text = _get(client, cast.agent, "/").content.decode()
    assert reverse("field:work-order-list") in text and reverse("field:engineer-list") not in text
    text = _get(client, cast.outsider, "/").content.decode()
    assert reverse("field:work-order-list") not in text


def test_day_and_mine_filters(client, cast, s):
    import datetime as dt

    from django.utils import timezone

    day = timezone.localdate() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(9), tzinfo=timezone.get_current_timezone())
    services.set_appointment(actor=cast.dispatcher, work_order=s.wo_b, window_start=start,
                             window_end=start + dt.timedelta(hours=2))  # fmt: skip
    url = reverse("field:work-order-list") + f"?queue=all&day={day.isoformat()}"
    text = _get(client, cast.dispatcher, url).content.decode()
    assert s.wo_b.number in text and s.wo_a.number not in text
    text = _get(client, cast.engineer, reverse("field:work-order-list") + "?queue=mine").content
    assert s.wo_a.number in text.decode() and s.wo_b.number not in text.decode()
