"""Engineer services: profile, skills, certifications, shifts and leave — validation,
permissions (nothing changes when refused) and the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from frontline.accounts.models import EngineerSkill
from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.field import engineer_services as svc
from frontline.field.engineers import availability, effective_skills
from frontline.field.models import Certification, EngineerProfile, Leave, Shift
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)  # a Monday


@pytest.fixture
def eng(cast):
    return engineer(user=cast.engineer)


def test_create_profile(cast):
    profile = svc.create_profile(actor=cast.manager, user=cast.engineer, home_latitude="31.2",
                                 home_longitude="121.5", region="浦东", offer_radius_km=30)  # fmt: skip
    assert profile.home_latitude == Decimal("31.200000") and profile.offer_radius_km == 30
    assert AuditEntry.objects.filter(object_id=str(profile.pk), action="create").exists()
    with pytest.raises(Conflict):
        svc.create_profile(actor=cast.manager, user=cast.engineer, home_latitude=31,
                           home_longitude=121)  # fmt: skip


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"home_latitude": 91}, "home_latitude"),
        ({"home_longitude": "east"}, "home_longitude"),
        ({"daily_capacity_minutes": 5}, "daily_capacity_minutes"),
        ({"offer_radius_km": 0}, "offer_radius_km"),
        ({"workday_start": dt.time(18), "workday_end": dt.time(9)}, "workday_end"),
    ],
)
def test_create_profile_validation(cast, fields, field):
    values = {"home_latitude": 31, "home_longitude": 121, **fields}
    with pytest.raises(ValidationFailed) as exc:
        svc.create_profile(actor=cast.manager, user=cast.engineer, **values)
    assert field in exc.value.fields
    assert not EngineerProfile.objects.exists()


def test_profile_only_for_people_who_do_field_work(cast):
    with pytest.raises(ValidationFailed) as exc:
        svc.create_profile(actor=cast.manager, user=cast.agent, home_latitude=31,
                           home_longitude=121)  # fmt: skip
    assert "user" in exc.value.fields


@pytest.mark.parametrize("role", ["engineer", "agent", "customer_a_admin", "partner_admin"])
def test_only_engineer_managers_change_engineers(cast, eng, role):
    actor = cast.by_role(role)
    with pytest.raises(PermissionDenied):
        svc.set_shift(actor=actor, user=eng, date=TODAY, start=dt.time(8), end=dt.time(12))
    with pytest.raises(PermissionDenied):
        svc.update_profile(actor=actor, profile=eng.engineer_profile, region="x")
    assert not Shift.objects.exists()
    assert EngineerProfile.objects.get(user=eng).region == "上海"


def test_update_profile_audits_only_what_changed(cast, eng):
    profile = svc.update_profile(actor=cast.dispatcher, profile=eng.engineer_profile,
                                 region="闵行", phone="")  # fmt: skip
    assert profile.region == "闵行"
    entry = AuditEntry.objects.get(object_id=str(profile.pk), action="update")
    assert set(entry.changes) == {"region"}


def test_update_profile_refuses_unknown_fields(cast, eng):
    with pytest.raises(ValidationFailed) as exc:
        svc.update_profile(actor=cast.dispatcher, profile=eng.engineer_profile, user=cast.agent)
    assert "user" in exc.value.fields


def test_update_profile_workday_order(cast, eng):
    with pytest.raises(ValidationFailed):
        svc.update_profile(actor=cast.dispatcher, profile=eng.engineer_profile,
                           workday_start=dt.time(17), workday_end=dt.time(9))  # fmt: skip
    assert EngineerProfile.objects.get(user=eng).workday_start == dt.time(0, 0)


def test_shift_end_before_start_is_refused(cast, eng):
    with pytest.raises(ValidationFailed) as exc:
        svc.set_shift(actor=cast.dispatcher, user=eng, date=TODAY, start=dt.time(14),
                      end=dt.time(9))  # fmt: skip
    assert exc.value.fields == {"end": ["The shift must end after it starts."]}
    assert not Shift.objects.exists()


def test_shift_replaces_the_day_and_can_be_cleared(cast, eng):
    svc.set_shift(actor=cast.dispatcher, user=eng, date=TODAY, start=dt.time(8), end=dt.time(12))
    shift = svc.set_shift(actor=cast.dispatcher, user=eng, date=TODAY, start=dt.time(13),
                          end=dt.time(20))  # fmt: skip
    assert Shift.objects.filter(user=eng).count() == 1
    hours = availability([eng.engineer_profile], TODAY)[eng.pk]
    assert (hours.start.hour, hours.end.hour) == (13, 20)
    svc.clear_shift(actor=cast.dispatcher, shift=shift)
    assert not Shift.objects.exists()
    assert AuditEntry.objects.filter(verb="shift").count() == 2


def test_leave_overlapping_leave_is_refused(cast, eng):
    svc.add_leave(actor=cast.dispatcher, user=eng, first_day=TODAY,
                  last_day=TODAY + dt.timedelta(days=4), reason="年假")  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        svc.add_leave(actor=cast.dispatcher, user=eng, first_day=TODAY + dt.timedelta(days=4),
                      last_day=TODAY + dt.timedelta(days=6))  # fmt: skip
    assert exc.value.code == "leave_overlaps" and "first_day" in exc.value.fields
    assert Leave.objects.count() == 1
    # The day after is fine.
    svc.add_leave(actor=cast.dispatcher, user=eng, first_day=TODAY + dt.timedelta(days=5),
                  last_day=TODAY + dt.timedelta(days=5))  # fmt: skip
    assert availability([eng.engineer_profile], TODAY + dt.timedelta(days=2))[eng.pk] is None


def test_leave_ending_before_it_starts_is_refused(cast, eng):
    with pytest.raises(ValidationFailed) as exc:
        svc.add_leave(actor=cast.dispatcher, user=eng, first_day=TODAY,
                      last_day=TODAY - dt.timedelta(days=1))  # fmt: skip
    assert "last_day" in exc.value.fields and not Leave.objects.exists()


def test_cancel_leave(cast, eng):
    leave = svc.add_leave(actor=cast.dispatcher, user=eng, first_day=TODAY, last_day=TODAY)
    svc.cancel_leave(actor=cast.dispatcher, leave=leave)
    assert not Leave.objects.exists()
    assert AuditEntry.objects.filter(object_id=str(leave.pk), action="delete").exists()


def test_expired_certification_suspends_the_skill(cast, eng):
    hv = f.SkillFactory(code="hv", requires_certification=True)
    svc.set_skill(actor=cast.dispatcher, user=eng, skill=hv, level=4)
    today = timezone.localdate()
    cert = svc.add_certification(actor=cast.dispatcher, user=eng, skill=hv, name="高压电工证",
                                 issued_on=today - dt.timedelta(days=800),
                                 expires_on=today - dt.timedelta(days=1))  # fmt: skip
    assert cert.pk is not None  # history may be recorded …
    assert hv.pk not in effective_skills([eng.pk], today)[eng.pk]  # … but it does not count
    svc.add_certification(actor=cast.dispatcher, user=eng, skill=hv, name="高压电工证（新）",
                          expires_on=today + dt.timedelta(days=365))  # fmt: skip
    assert effective_skills([eng.pk], today)[eng.pk][hv.pk] == 4


def test_certification_validation(cast, eng):
    hv = f.SkillFactory(code="hv")
    with pytest.raises(ValidationFailed) as exc:
        svc.add_certification(actor=cast.dispatcher, user=eng, skill=hv, name=" ",
                              issued_on=TODAY, expires_on=TODAY - dt.timedelta(days=1))  # fmt: skip
    assert set(exc.value.fields) == {"name", "expires_on"}
    assert not Certification.objects.exists()


def test_remove_certification(cast, eng):
    hv = f.SkillFactory(code="hv")
    cert = svc.add_certification(actor=cast.dispatcher, user=eng, skill=hv, name="证")
    svc.remove_certification(actor=cast.dispatcher, certification=cert)
    assert not Certification.objects.exists()


def test_set_and_remove_skill(cast, eng):
    skill = f.SkillFactory(code="boiler")
    svc.set_skill(actor=cast.dispatcher, user=eng, skill=skill, level=2)
    assert EngineerSkill.objects.get(user=eng, skill=skill).level == 2
    with pytest.raises(ValidationFailed):
        svc.set_skill(actor=cast.dispatcher, user=eng, skill=skill, level=9)
    assert EngineerSkill.objects.get(user=eng, skill=skill).level == 2
    svc.set_skill(actor=cast.dispatcher, user=eng, skill=skill, level=0)
    assert not EngineerSkill.objects.filter(user=eng, skill=skill).exists()


def test_no_such_engineer_is_not_found(cast):
    with pytest.raises(NotFound):
        svc.set_shift(actor=cast.dispatcher, user="not a user", date=TODAY, start=dt.time(8),
                      end=dt.time(9))  # fmt: skip
