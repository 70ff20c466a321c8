"""Factories for field service: engineers with profiles and skills, work orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from frontline.accounts.models import EngineerSkill
from frontline.accounts.roles import Role
from frontline.field.models import Certification, EngineerProfile, WorkOrder
from frontline.testing import factories as f


class EngineerProfileFactory(DjangoModelFactory):
    class Meta:
        model = EngineerProfile
        django_get_or_create = ("user",)

    user = factory.LazyFunction(lambda: f.member(Role.ENGINEER))
    region = "上海"
    home_latitude = Decimal("31.230400")
    home_longitude = Decimal("121.473700")
    workday_start = dt.time(0, 0)
    workday_end = dt.time(23, 59)
    works_weekends = True


def engineer(*, user=None, skills=None, at=None, role=Role.ENGINEER, organization=None, **kw):
    """An engineer who works today (all day) near People's Square, with ``skills``
    ({Skill: level}); ``at`` = (lat, lon) of the home base."""
    user = user or f.member(role, organization)
    if at is not None:
        kw["home_latitude"], kw["home_longitude"] = Decimal(str(at[0])), Decimal(str(at[1]))
    profile = EngineerProfileFactory(user=user, **kw)
    for skill, level in (skills or {}).items():
        EngineerSkill.objects.update_or_create(user=user, skill=skill, defaults={"level": level})
    return profile.user


def certify(user, skill, *, expires_in_days=365, name="高压电工证"):
    return Certification.objects.create(
        user=user,
        skill=skill,
        name=name,
        expires_on=timezone.localdate() + dt.timedelta(days=expires_in_days),
    )


class WorkOrderFactory(DjangoModelFactory):
    """A work order in the queue, built straight in the table (use the services to act)."""

    class Meta:
        model = WorkOrder

    number = factory.Sequence(lambda n: f"W-T{n:06d}")
    title = factory.Sequence(lambda n: f"冷水机组异响检修 {n}")
    site = factory.SubFactory(f.SiteFactory)
    customer = factory.LazyAttribute(lambda o: o.site.customer)
    estimated_minutes = 60
