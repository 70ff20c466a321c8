"""Desk factories: tickets created directly (bypassing services) with a valid owner.

Other desk tests import these. A ticket from ``TicketFactory`` has a customer
organisation, an operator owner who works tickets (an agent unless given) and a
``T-…`` number; it records no events and computes no SLA (call the services for that).
"""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from frontline.accounts.models import Organization, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.desk.models import (
    Attachment,
    BusinessCalendar,
    Category,
    HandOff,
    SeverityLevel,
    SlaPolicy,
    Tag,
    Ticket,
    TicketEvent,
    WorkingPeriod,
)
from frontline.desk.states import Channel, EventKind, Severity, TicketStatus
from frontline.testing import factories as f


def customer_org() -> Organization:
    return f.OrganizationFactory(kind=OrganizationKind.CUSTOMER)


def operator_user(role: str = Role.AGENT, **kwargs) -> User:
    """An active operator user with ``role`` (default: a service agent who may own tickets)."""
    return f.member(role, f.operator(), **kwargs)


class TicketFactory(DjangoModelFactory):
    """A ticket straight in the database; ``owner`` defaults to a fresh operator agent."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"T-F{n:06d}")
    title = factory.Sequence(lambda n: f"冷水机组 {n} 号出水温度过高")
    description = "<p>出水温度 12℃，设定 7℃。</p>"
    customer = factory.LazyFunction(customer_org)
    channel = Channel.PORTAL
    severity = Severity.S3
    status = TicketStatus.NEW
    owner = factory.LazyFunction(operator_user)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)

    @factory.post_generation
    def watchers(self, create, extracted, **kwargs):
        if create and extracted:
            self.watchers.set(extracted)


class TicketEventFactory(DjangoModelFactory):
    class Meta:
        model = TicketEvent

    ticket = factory.SubFactory(TicketFactory)
    kind = EventKind.NOTE
    public = False
    body = "<p>内部备注</p>"
    data = factory.LazyFunction(dict)


class AttachmentFactory(DjangoModelFactory):
    class Meta:
        model = Attachment

    ticket = factory.SubFactory(TicketFactory)
    file = factory.django.FileField(filename="report.txt", data=b"hello\n")
    name = "report.txt"
    content_type = "text/plain"
    size = 6
    sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    public = True


class HandOffFactory(DjangoModelFactory):
    """A pending hand-off from the ticket's owner to another agent."""

    class Meta:
        model = HandOff

    ticket = factory.SubFactory(TicketFactory)
    from_user = factory.LazyAttribute(lambda o: o.ticket.owner)
    to_user = factory.LazyFunction(operator_user)
    requested_by = factory.LazyAttribute(lambda o: o.from_user)


class SeverityLevelFactory(DjangoModelFactory):
    class Meta:
        model = SeverityLevel
        django_get_or_create = ("severity",)
        skip_postgeneration_save = True

    severity = Severity.S3
    name = factory.LazyAttribute(
        lambda o: {"S1": "导弹", "S2": "炮", "S3": "机枪", "S4": "枪"}.get(o.severity, o.severity)
    )
    description = ""
    summon_roles = factory.LazyFunction(list)
    customer_may_choose = factory.LazyAttribute(lambda o: o.severity in {"S3", "S4"})

    @factory.post_generation
    def summon_teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.summon_teams.set(extracted)

    @factory.post_generation
    def summon_users(self, create, extracted, **kwargs):
        if create and extracted:
            self.summon_users.set(extracted)


class BusinessCalendarFactory(DjangoModelFactory):
    """Mon–Fri 09:00–18:00 in Asia/Shanghai (pass ``is_24x7=True`` for round the clock)."""

    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"工作日历 {n}")
    time_zone = "Asia/Shanghai"
    is_24x7 = False
    use_china_holidays = False

    @factory.post_generation
    def periods(self, create, extracted, **kwargs):
        if not create or self.is_24x7:
            return
        spans = extracted if extracted is not None else [(dt.time(9), dt.time(18))]
        for weekday in range(5):
            for start, end in spans:
                WorkingPeriod.objects.create(calendar=self, weekday=weekday, start=start, end=end)


class SlaPolicyFactory(DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    project = factory.SubFactory(f.ProjectFactory)
    severity = Severity.S3
    calendar = factory.SubFactory(BusinessCalendarFactory, is_24x7=True)
    first_response_minutes = 60
    resolution_minutes = 480
    warning_percent = 80


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"暖通故障 {n}")


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"标签{n}")


class Places:
    """A site, a project and an asset for each of the cast's two customers."""

    def __init__(self, cast):
        self.site_a = f.SiteFactory(customer=cast.customer_a, name="华东生物 一号厂区")
        self.site_b = f.SiteFactory(customer=cast.customer_b, name="云谷 A 机房")
        self.project_a = f.ProjectFactory(customer=cast.customer_a, code="HD-DESK")
        self.project_a.sites.add(self.site_a)
        self.project_b = f.ProjectFactory(customer=cast.customer_b, code="YG-DESK")
        self.project_b.sites.add(self.site_b)
        self.asset_a = f.AssetFactory(site=self.site_a, name="1# 冷水机组")
        self.other_site_a = f.SiteFactory(customer=cast.customer_a, name="华东生物 二号厂区")
        self.asset_b = f.AssetFactory(site=self.site_b, name="2# 冷水机组")


def ticket_for(cast, *, customer=None, owner=None, **kwargs) -> Ticket:
    """A ticket of customer A (by default) owned by the cast's agent, contact = A's user."""
    customer = customer or cast.customer_a
    contact = kwargs.pop("contact", cast.customer_a_user if customer == cast.customer_a else None)
    return TicketFactory(customer=customer, owner=owner or cast.agent, contact=contact, **kwargs)


__all__ = [
    "AttachmentFactory",
    "BusinessCalendarFactory",
    "CategoryFactory",
    "HandOffFactory",
    "Places",
    "SeverityLevelFactory",
    "SlaPolicyFactory",
    "TagFactory",
    "TicketEventFactory",
    "TicketFactory",
    "customer_org",
    "operator_user",
    "ticket_for",
]
