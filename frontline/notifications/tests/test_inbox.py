"""The inbox page, the bell's badge and the API: one's own notifications only, fixed query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.notifications import services
from frontline.notifications.models import Notification

pytestmark = pytest.mark.django_db


def make(user, n=1, *, prefix="n", read=False):
    rows = [
        Notification(
            recipient=user,
            kind="test",
            title=f"{prefix} {i}",
            body="正文",
            url="/inbox/",
            dedupe_key=f"{prefix}:{i}",
        )
        for i in range(n)
    ]
    Notification.objects.bulk_create(rows)
    if read:
        Notification.objects.filter(recipient=user, dedupe_key__startswith=f"{prefix}:").update(
            read_at="2026-01-01T00:00:00Z"
        )
    return list(
        Notification.objects.filter(recipient=user, dedupe_key__startswith=f"{prefix}:").order_by(
            "pk"
        )
    )


# ---------------------------------------------------------------- pages


def test_the_inbox_lists_only_my_notifications(client, cast):
    make(cast.agent, 2, prefix="mine")
    make(cast.engineer, 1, prefix="theirs")
    client.force_login(cast.agent)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "mine 0" in body and "mine 1" in body and "theirs" not in body


def test_the_inbox_asks_for_a_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_unread_filter_and_the_htmx_partial(client, cast):
    make(cast.agent, 1, prefix="old", read=True)
    make(cast.agent, 1, prefix="fresh")
    client.force_login(cast.agent)
    response = client.get(reverse("notifications:inbox") + "?show=unread", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "fresh 0" in body and "old 0" not in body
    assert "<html" not in body and "navbar" not in body


def test_the_inbox_query_count_does_not_grow(client, cast, django_assert_max_num_queries):
    make(cast.agent, 30)
    client.force_login(cast.agent)
    # session, user, count for the paginator, the page, the bell's unread count
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="notification"') == 25


def test_marking_read_is_scoped_to_the_owner(client, cast):
    (mine,) = make(cast.agent)
    (theirs,) = make(cast.engineer)
    client.force_login(cast.agent)
    assert client.post(reverse("notifications:mark-read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark-read", args=["abc"])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    response = client.post(reverse("notifications:mark-read", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None

    client.post(reverse("notifications:mark-unread", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.read_at is None


def test_open_marks_read_and_follows_the_link(client, cast):
    (mine,) = make(cast.agent)
    client.force_login(cast.agent)
    response = client.post(reverse("notifications:mark-read", args=[mine.pk]), {"open": "1"})
    assert response["Location"] == "/inbox/"


def test_next_never_redirects_off_site(client, cast):
    (mine,) = make(cast.agent)
    client.force_login(cast.agent)
    response = client.post(
        reverse("notifications:mark-read", args=[mine.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notifications:inbox")


def test_marking_read_needs_post_with_a_csrf_token(cast):
    from django.test import Client

    (mine,) = make(cast.agent)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.agent)
    assert strict.get(reverse("notifications:mark-read", args=[mine.pk])).status_code == 405
    assert strict.post(reverse("notifications:mark-read", args=[mine.pk])).status_code == 403
    assert strict.post(reverse("notifications:mark-all-read")).status_code == 403
    mine.refresh_from_db()
    assert mine.read_at is None


def test_mark_all_read_touches_only_mine(client, cast):
    make(cast.agent, 3)
    (theirs,) = make(cast.engineer)
    client.force_login(cast.agent)
    client.post(reverse("notifications:mark-all-read"))
    assert not Notification.objects.filter(recipient=cast.agent, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_bell_shows_my_unread_count_and_polls_for_it(client, cast):
    make(cast.agent, 3)
    make(cast.agent, 2, prefix="r", read=True)
    make(cast.engineer, 5, prefix="e")
    client.force_login(cast.agent)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert 'hx-trigger="every 30s"' in page
    assert 'class="badge rounded-pill bg-danger">3<' in page

    badge = client.get(reverse("notifications:unread-badge"))
    body = badge.content.decode()
    assert ">3<" in body and "<html" not in body and "navbar" not in body


def test_the_badge_costs_one_count_query(client, cast, django_assert_num_queries):
    make(cast.agent, 3)
    client.force_login(cast.agent)
    # session, user, count
    with django_assert_num_queries(3):
        client.get(reverse("notifications:unread-badge"))


def test_no_count_query_for_anonymous_pages(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "inbox-badge" not in response.content.decode()


def test_services_count_unread(cast):
    make(cast.agent, 2)
    assert services.unread_count(cast.agent) == 2
    assert services.mark_all_read(user=cast.agent) == 2
    assert services.unread_count(cast.agent) == 0


# ---------------------------------------------------------------- API


def test_api_lists_my_notifications_and_filters_unread(api, cast):
    make(cast.agent, 1, prefix="old", read=True)
    make(cast.agent, 2, prefix="fresh")
    make(cast.engineer, 1, prefix="theirs")
    client = api.as_user(cast.agent)
    every = client.get("/api/v1/notifications/").json()
    assert every["count"] == 3
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert {n["title"] for n in unread["results"]} == {"fresh 0", "fresh 1"}
    read = client.get("/api/v1/notifications/?unread=false").json()
    assert [n["title"] for n in read["results"]] == ["old 0"]


def test_api_rejects_unknown_parameters(api, cast):
    client = api.as_user(cast.agent)
    assert client.get("/api/v1/notifications/?recipient=5").status_code == 400
    assert client.get("/api/v1/notifications/?ordering=recipient").status_code == 400


def test_api_marks_read_only_my_own(api, cast):
    (mine,) = make(cast.agent)
    (theirs,) = make(cast.engineer)
    client = api.as_user(cast.agent)
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/api/v1/notifications/99999999999999999999/read/").status_code == 404
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert client.post(f"/api/v1/notifications/{mine.pk}/unread/").json()["is_read"] is False
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_read_all(api, cast):
    make(cast.agent, 4)
    (theirs,) = make(cast.engineer)
    response = api.as_user(cast.agent).post("/api/v1/notifications/read-all/")
    assert response.json() == {"updated": 4}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_needs_a_signed_in_user(api):
    assert api.get("/api/v1/notifications/").status_code in {401, 403}


def test_api_list_query_count_does_not_grow(api, cast, django_assert_max_num_queries):
    make(cast.agent, 40)
    client = api.as_user(cast.agent)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/notifications/?page_size=100")
    assert response.json()["count"] == 40
