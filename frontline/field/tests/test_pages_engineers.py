"""Engineer pages: who sees the list and a profile, what the profile shows, the forms
(happy path and refusal), and bounded query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field.models import Certification, EngineerProfile, Leave, Shift, Survey
from frontline.field.tests.factories import WorkOrderFactory, certify, engineer
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
LIST_MAX = 16


@pytest.fixture
def engs(cast):
    skill = f.SkillFactory(code="hvac", name="暖通")
    op = engineer(user=cast.engineer, skills={skill: 3})
    partner = engineer(user=cast.partner_engineer, skills={skill: 2})
    return op, partner


def _get(client, user, url):
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize(
    "role, expected",
    [
        ("dispatcher", 200),
        ("manager", 200),
        ("engineer", 200),
        ("agent", 200),
        ("partner_admin", 200),
        ("partner_engineer", 404),
        ("customer_a_admin", 404),
        ("outsider", 404),
        (None, 302),
    ],
)
def test_list_by_role(client, cast, engs, role, expected):
    user = cast.by_role(role) if role else None
    assert _get(client, user, reverse("field:engineer-list")).status_code == expected


def test_partner_admin_sees_only_the_outlets_engineers(client, cast, engs):
    text = _get(client, cast.partner_admin, reverse("field:engineer-list")).content.decode()
    assert f'data-engineer-id="{cast.partner_engineer.pk}"' in text
    assert f'data-engineer-id="{cast.engineer.pk}"' not in text
    url = reverse("field:engineer-detail", args=[cast.engineer.pk])
    assert _get(client, cast.partner_admin, url).status_code == 404


@pytest.mark.parametrize(
    "role, whose, expected",
    [
        ("dispatcher", "engineer", 200),
        ("dispatcher", "partner_engineer", 200),
        ("engineer", "engineer", 200),
        ("partner_admin", "partner_engineer", 200),
        ("partner_engineer", "partner_engineer", 200),  # one's own profile
        ("partner_engineer", "engineer", 404),
        ("customer_a_admin", "engineer", 404),
        ("outsider", "engineer", 404),
        (None, "engineer", 302),
    ],
)
def test_profile_by_role(client, cast, engs, role, whose, expected):
    user = cast.by_role(role) if role else None
    url = reverse("field:engineer-detail", args=[cast.by_role(whose).pk])
    assert _get(client, user, url).status_code == expected


def test_profile_without_a_profile_or_bad_id_is_404(client, cast, engs):
    for pk in (cast.agent.pk, "abc", 0):
        assert _get(client, cast.dispatcher, f"/engineers/{pk}/").status_code == 404


def test_profile_shows_suspended_skill_calendar_and_surveys(client, cast, engs):
    op, _ = engs
    hv = f.SkillFactory(code="hv", name="高压", requires_certification=True)
    from frontline.accounts.models import EngineerSkill

    EngineerSkill.objects.create(user=op, skill=hv, level=4)
    certify(op, hv, expires_in_days=-3)
    today = timezone.localdate()
    Shift.objects.create(user=op, date=today + dt.timedelta(days=1), start=dt.time(6),
                         end=dt.time(14))  # fmt: skip
    Leave.objects.create(user=op, first_day=today + dt.timedelta(days=3),
                         last_day=today + dt.timedelta(days=4), reason="年假")  # fmt: skip
    wo = WorkOrderFactory(assignee=op, status="closed", title='"><script>x</script>')
    Survey.objects.create(work_order=wo, engineer=op, csat=4, nps=9, comment="<b>好</b>")
    response = _get(client, cast.dispatcher, reverse("field:engineer-detail", args=[op.pk]))
    text = response.content.decode()
    assert 'data-skill="hv" data-suspended="true"' in text
    assert 'data-skill="hvac" data-suspended="false"' in text
    assert 'data-expired="true"' in text
    cal = response.context["calendar"]
    assert len(cal) == 14 and cal[1]["kind"] == "shift" and cal[3]["kind"] == "leave"
    assert "CSAT 4" in text and "&lt;b&gt;好&lt;/b&gt;" in text
    assert "<script>x</script>" not in text
    assert 'id="engineer-map-data"' in text and "field/engineer-map.js" in text


def test_list_shows_availability_load_and_scores(client, cast, engs):
    op, _ = engs
    now = timezone.now()
    WorkOrderFactory(assignee=op, status="dispatched", planned_start=now)
    wo = WorkOrderFactory(assignee=op, status="closed")
    Survey.objects.create(work_order=wo, engineer=op, csat=5, nps=10)
    response = _get(client, cast.dispatcher, reverse("field:engineer-list"))
    row = next(r for r in response.context["rows"] if r["profile"].user_id == op.pk)
    assert row["jobs"] == 1 and row["hours"] is not None and row["scores"]["csat"] == 5


def test_list_query_count_is_bounded(client, cast, engs, django_assert_max_num_queries):
    skill = f.SkillFactory(code="hv", requires_certification=True)
    for _ in range(24):
        user = engineer(skills={skill: 2})
        certify(user, skill, expires_in_days=10)
        WorkOrderFactory(assignee=user, status="dispatched", planned_start=timezone.now())
    client.force_login(cast.dispatcher)
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(reverse("field:engineer-list"))
    assert response.status_code == 200 and len(response.context["rows"]) == 25


# ---------------------------------------------------------------- forms


def _post(client, user, verb, pk, data):
    client.force_login(user)
    return client.post(reverse(f"field:engineer-{verb}", args=[pk]), data)


def test_set_shift_and_refusal(client, cast, engs):
    pk = cast.engineer.pk
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = _post(client, cast.dispatcher, "shift", pk,
                     {"shift-date": day, "shift-start": "14:00", "shift-end": "09:00"})  # fmt: skip
    assert response.status_code == 400
    assert "The shift must end after it starts." in response.content.decode()
    assert not Shift.objects.exists()
    response = _post(client, cast.dispatcher, "shift", pk,
                     {"shift-date": day, "shift-start": "07:00", "shift-end": "15:00"})  # fmt: skip
    assert response.status_code == 302
    shift = Shift.objects.get(user=cast.engineer)
    assert _post(client, cast.dispatcher, "shift-clear", pk, {"id": shift.pk}).status_code == 302
    assert not Shift.objects.exists()


def test_leave_overlap_is_refused_on_the_page(client, cast, engs):
    pk = cast.engineer.pk
    today = timezone.localdate()
    data = {"leave-first_day": today.isoformat(),
            "leave-last_day": (today + dt.timedelta(days=2)).isoformat()}  # fmt: skip
    assert _post(client, cast.dispatcher, "leave", pk, data).status_code == 302
    response = _post(client, cast.dispatcher, "leave", pk, data)
    assert (
        response.status_code == 400
        and "overlaps leave already entered" in response.content.decode()
    )
    leave = Leave.objects.get()
    assert _post(client, cast.dispatcher, "leave-cancel", pk, {"id": leave.pk}).status_code == 302
    assert not Leave.objects.exists()


def test_certification_skill_and_profile_forms(client, cast, engs):
    pk = cast.engineer.pk
    hv = f.SkillFactory(code="hv")
    response = _post(client, cast.dispatcher, "certification", pk,
                     {"cert-skill": hv.pk, "cert-name": "高压电工证", "cert-issued_on": "2026-01-02",
                      "cert-expires_on": "2025-01-01"})  # fmt: skip
    assert response.status_code == 400 and not Certification.objects.exists()
    response = _post(client, cast.dispatcher, "certification", pk,
                     {"cert-skill": hv.pk, "cert-name": "高压电工证", "cert-expires_on": "2030-01-01"})  # fmt: skip
    assert response.status_code == 302
    cert = Certification.objects.get()
    assert (
        _post(client, cast.dispatcher, "certification-remove", pk, {"id": cert.pk}).status_code
        == 302
    )
    assert (
        _post(
            client, cast.dispatcher, "skill", pk, {"skill-skill": hv.pk, "skill-level": 3}
        ).status_code
        == 302
    )
    profile = EngineerProfile.objects.get(user=cast.engineer)
    data = {"edit-phone": "138", "edit-region": "闵行", "edit-home_latitude": "31.1",
            "edit-home_longitude": "121.4", "edit-workday_start": "08:00",
            "edit-workday_end": "17:00", "edit-daily_capacity_minutes": 400,
            "edit-offer_radius_km": 40, "edit-is_active": "on"}  # fmt: skip
    assert _post(client, cast.dispatcher, "edit", pk, data).status_code == 302
    profile.refresh_from_db()
    assert (profile.region, profile.offer_radius_km) == ("闵行", 40)


def test_rows_of_another_engineer_are_404(client, cast, engs):
    other = engineer()
    leave = Leave.objects.create(user=other, first_day=timezone.localdate(),
                                 last_day=timezone.localdate())  # fmt: skip
    response = _post(client, cast.dispatcher, "leave-cancel", cast.engineer.pk, {"id": leave.pk})
    assert response.status_code == 404 and Leave.objects.filter(pk=leave.pk).exists()


@pytest.mark.parametrize("role, expected", [("engineer", 403), ("partner_admin", 403),
                                            ("customer_a_admin", 404)])  # fmt: skip
def test_changes_need_manage_engineers(client, cast, engs, role, expected):
    pk = cast.partner_engineer.pk if role == "partner_admin" else cast.engineer.pk
    day = timezone.localdate().isoformat()
    response = _post(client, cast.by_role(role), "shift", pk,
                     {"shift-date": day, "shift-start": "07:00", "shift-end": "15:00"})  # fmt: skip
    assert response.status_code == expected and not Shift.objects.exists()


def test_create_profile_page(client, cast):
    client.force_login(cast.dispatcher)
    assert client.get(reverse("field:engineer-create")).status_code == 200
    data = {"user": cast.engineer.pk, "home_latitude": "31.2", "home_longitude": "121.5",
            "workday_start": "08:30", "workday_end": "17:30", "daily_capacity_minutes": 420,
            "offer_radius_km": 50, "is_active": "on"}  # fmt: skip
    response = client.post(reverse("field:engineer-create"), data)
    assert response.status_code == 302
    assert EngineerProfile.objects.filter(user=cast.engineer).exists()
    client.force_login(cast.engineer)
    assert client.get(reverse("field:engineer-create")).status_code == 403
    client.force_login(cast.customer_a_admin)
    assert client.get(reverse("field:engineer-create")).status_code == 404
