"""Factories for tests and benchmarks: a cast of named actors and their organisations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from frontline.accounts.models import ApiToken, Membership, Organization, Skill, Team, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.sites.models import Asset, AssetCategory, AssetModel, Project, Site

PASSWORD = "frontline-test-pw"


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"客户公司 {n}")
    code = factory.Sequence(lambda n: f"org-{n}")
    kind = OrganizationKind.CUSTOMER


def operator() -> Organization:
    """The one operator organisation of the deployment (created on first use)."""
    org = Organization.objects.filter(kind=OrganizationKind.OPERATOR).first()
    return org or OrganizationFactory(
        name="沪联设施服务", code="operator", kind=OrganizationKind.OPERATOR
    )


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.CUSTOMER_USER


def member(role: str, organization: Organization | None = None, **user_kwargs) -> User:
    """A user with ``role`` in ``organization`` (the operator for operator roles)."""
    if organization is None:
        if role in {
            Role.ADMIN,
            Role.MANAGER,
            Role.DISPATCHER,
            Role.AGENT,
            Role.ENGINEER,
            Role.QUALITY_ANALYST,
        }:
            organization = operator()
        elif role.startswith("partner"):
            organization = OrganizationFactory(kind=OrganizationKind.PARTNER)
        elif role.startswith("supplier"):
            organization = OrganizationFactory(kind=OrganizationKind.SUPPLIER)
        else:
            organization = OrganizationFactory(kind=OrganizationKind.CUSTOMER)
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, organization=organization, role=role)
    return User.objects.get(pk=user.pk)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.LazyFunction(operator)
    name = factory.Sequence(lambda n: f"运维{n}组")


class SkillFactory(DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.Sequence(lambda n: f"技能{n}")


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site

    customer = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"张江园区 {n} 号楼")
    address = "上海市浦东新区张江路 100 号"
    city = "上海"
    latitude = Decimal("31.203400")
    longitude = Decimal("121.587000")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    customer = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"PRJ-{n:04d}")
    name = factory.Sequence(lambda n: f"暖通运维项目 {n}")
    contract_start = dt.date(2026, 1, 1)
    contract_end = dt.date(2028, 12, 31)


class AssetModelFactory(DjangoModelFactory):
    class Meta:
        model = AssetModel

    manufacturer = "Carrier"
    model = factory.Sequence(lambda n: f"30XW-{1000 + n}")
    category = AssetCategory.CHILLER


class AssetFactory(DjangoModelFactory):
    class Meta:
        model = Asset

    site = factory.SubFactory(SiteFactory)
    model = factory.SubFactory(AssetModelFactory)
    name = factory.Sequence(lambda n: f"{n}# 冷水机组")
    serial = factory.Sequence(lambda n: f"SN{n:08d}")
    location = "B1 冷站"


__all__ = [
    "PASSWORD",
    "ApiToken",
    "AssetFactory",
    "AssetModelFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "ProjectFactory",
    "SiteFactory",
    "SkillFactory",
    "TeamFactory",
    "UserFactory",
    "member",
    "operator",
]
