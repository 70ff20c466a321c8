"""Ranked engineers for one work order, with reasons, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.field import services
from frontline.field.models import Leave, Shift
from frontline.field.suggestions import suggest
from frontline.field.tests.factories import certify, engineer
from frontline.field.tests.factories_dispatch import queue_order, today_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
SITE = (31.2034, 121.587)  # the factories' site in Zhangjiang


def _site(cast):
    return f.SiteFactory(customer=cast.customer_a)


def test_nearer_engineers_rank_first_with_the_distance_as_reason(cast):
    far = engineer(at=(31.40, 121.30))
    near = engineer(at=(31.21, 121.58))
    wo = queue_order(site=_site(cast))
    ranked = suggest(wo)
    assert [s.engineer for s in ranked[:2]] == [near, far]
    assert ranked[0].eligible and ranked[0].reasons[0].startswith("1.0 km away")


def test_last_position_beats_home_base(cast):
    moving = engineer(at=(31.9, 121.9))
    moving.engineer_profile.last_latitude, moving.engineer_profile.last_longitude = SITE
    moving.engineer_profile.save()
    engineer(at=(31.3, 121.5))
    ranked = suggest(queue_order(site=_site(cast)))
    assert ranked[0].engineer == moving and ranked[0].distance_km < 0.1


def test_skills_levels_and_certifications(cast):
    hv = f.SkillFactory(name="高压", requires_certification=True)
    expert = engineer(skills={hv: 4}, at=(31.3, 121.5))
    certify(expert, hv, name="高压电工证")
    novice = engineer(skills={hv: 1}, at=SITE)
    lapsed = engineer(skills={hv: 5}, at=SITE)
    certify(lapsed, hv, expires_in_days=-1)
    wo = queue_order(site=_site(cast), skills={hv: 2})
    ranked = {s.engineer: s for s in suggest(wo)}
    assert ranked[expert].eligible
    assert "高压 level 4 (needs 2)" in ranked[expert].reasons
    assert any(r.startswith("certified: 高压电工证 (until") for r in ranked[expert].reasons)
    assert ranked[novice].blockers == ["lacks 高压 level 2 (or a valid certification)"]
    assert ranked[lapsed].blockers == ["lacks 高压 level 2 (or a valid certification)"]
    assert suggest(wo)[0].engineer == expert


def test_load_that_day_counts_and_a_full_day_blocks(cast):
    busy, free = engineer(at=SITE), engineer(at=SITE)
    busy.engineer_profile.daily_capacity_minutes = 120
    busy.engineer_profile.save()
    booked = queue_order(site=_site(cast), window=(9, 11), estimated_minutes=90)
    services.dispatch(actor=cast.dispatcher, work_order=booked, engineer=busy,
                      planned_start=today_at(9))  # fmt: skip
    wo = queue_order(site=_site(cast), window=(13, 15), estimated_minutes=60)
    ranked = {s.engineer: s for s in suggest(wo)}
    assert ranked[busy].load_minutes == 90
    assert "90 of 120 minutes booked that day" in ranked[busy].reasons
    assert ranked[busy].blockers == ["the day is fully booked"]
    assert ranked[free].eligible and suggest(wo)[0].engineer == free


def test_window_fit_and_days_off(cast):
    early = engineer(at=SITE)
    Shift.objects.create(user=early, date=timezone.localdate(), start=dt.time(6), end=dt.time(10))
    away = engineer(at=SITE)
    today = timezone.localdate()
    Leave.objects.create(user=away, first_day=today, last_day=today)
    ok = engineer(at=(31.25, 121.5))
    wo = queue_order(site=_site(cast), window=(14, 16))
    ranked = {s.engineer: s for s in suggest(wo)}
    assert ranked[early].blockers == ["working hours miss the appointment window"]
    assert ranked[away].blockers == ["not working that day"]
    assert ranked[ok].eligible and suggest(wo)[0].engineer == ok


def test_partner_orders_suggest_the_outlets_engineers_only(cast):
    own = engineer(user=cast.partner_engineer, at=SITE)
    engineer(at=SITE)
    wo = queue_order(site=_site(cast), partner=cast.partner)
    assert [s.engineer for s in suggest(wo)] == [own]


def test_pool_restricts_the_candidates(cast):
    a = engineer(at=SITE)
    engineer(at=SITE)
    assert [s.engineer for s in suggest(queue_order(site=_site(cast)), pool=[a])] == [a]


@pytest.mark.parametrize("count", [2, 20])
def test_queries_do_not_grow_with_engineers(cast, count, django_assert_max_num_queries):
    hv = f.SkillFactory(requires_certification=True)
    for n in range(count):
        user = engineer(skills={hv: 3}, at=(31.2 + n / 100, 121.5))
        certify(user, hv)
    wo = queue_order(site=_site(cast), skills={hv: 1})
    with django_assert_max_num_queries(9):
        ranked = suggest(wo)
    assert len(ranked) == count and all(s.eligible for s in ranked)
    assert ranked[0].as_dict()["reasons"]
