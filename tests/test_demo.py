"""The demo company: what `frontline demo` loads, and that it keeps the services' invariants."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from frontline.accounts.models import EngineerSkill, Membership, Organization, Team, User
from frontline.accounts.roles import OrganizationKind, Role, role_fits_kind
from frontline.demo import data, loader
from frontline.sites.models import Asset, AssetStatus, Project, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command(
        "demo", "--desk-days", "0", "--field-days", "0", "--inspection-days", "0", verbosity=0
    )


def test_demo_counts(demo):
    kinds = dict(Organization.objects.values_list("kind").annotate(n=Count("pk")))
    assert kinds == {"operator": 1, "customer": 3, "partner": 2, "supplier": 1}
    assert Project.objects.count() == 5
    assert 10 <= Site.objects.count() <= 14
    assert 140 <= Asset.objects.count() <= 170
    engineers = Membership.objects.filter(role=Role.ENGINEER)
    assert engineers.count() >= 40
    assert Membership.objects.filter(role=Role.PARTNER_ENGINEER).count() >= 4
    assert set(
        Team.objects.filter(organization__kind="operator").values_list("dispatch_mode", flat=True)
    ) == {
        "assign",
        "grab",
    }
    assert Team.objects.filter(dispatch_mode="assign", organization__kind="operator").count() == 2
    # Every operator engineer holds at least one skill, at a level between 1 and 5.
    assert not engineers.exclude(user__skills__isnull=False).exists()
    levels = set(EngineerSkill.objects.values_list("level", flat=True))
    assert levels <= {1, 2, 3, 4, 5}
    assert Asset.objects.filter(status=AssetStatus.FAULTY).exists()
    assert Asset.objects.filter(status=AssetStatus.UNDER_MAINTENANCE).exists()
    assert Asset.objects.filter(parent__isnull=False).count() >= 10


@pytest.mark.parametrize(
    ("email", "role", "org_code"),
    [
        ("admin@example.com", Role.ADMIN, "operator"),
        ("manager@example.com", Role.MANAGER, "operator"),
        ("dispatcher@example.com", Role.DISPATCHER, "operator"),
        ("agent@example.com", Role.AGENT, "operator"),
        ("engineer@example.com", Role.ENGINEER, "operator"),
        ("analyst@example.com", Role.QUALITY_ANALYST, "operator"),
        ("customer-a@example.com", Role.CUSTOMER_ADMIN, data.CUSTOMERS[0]["code"]),
        ("customer-b@example.com", Role.CUSTOMER_ADMIN, data.CUSTOMERS[1]["code"]),
        ("partner@example.com", Role.PARTNER_ADMIN, data.PARTNERS[0]["code"]),
    ],
)
def test_demo_logins_work(demo, email, role, org_code):
    request = RequestFactory().post("/accounts/login/")
    user = authenticate(request, username=email, password="frontline")

    assert user is not None, f"{email} cannot sign in with the demo password"
    assert (user.role, user.organization.code) == (role, org_code)
    assert user.preferred_language == ""
    assert authenticate(request, username=email, password="wrong") is None


def test_demo_admin_can_use_django_admin(demo):
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.exclude(pk=admin.pk).filter(is_superuser=True).exists()


def test_demo_password_is_hashed_once(demo):
    # Argon2 takes tens of milliseconds per hash; the loader hashes once and reuses it.
    assert User.objects.values("password").distinct().count() == 1


def test_demo_keeps_the_invariants(demo):
    loader.check_invariants()
    assert Organization.objects.filter(kind=OrganizationKind.OPERATOR).count() == 1
    for membership in Membership.objects.select_related("organization"):
        assert role_fits_kind(membership.role, membership.organization.kind), membership
    for project in Project.objects.prefetch_related("sites"):
        assert project.sites.exists()
        assert {s.customer_id for s in project.sites.all()} == {project.customer_id}, project.code
    for child in Asset.objects.filter(parent__isnull=False).select_related("parent"):
        assert child.parent.site_id == child.site_id, child
    assert Site.objects.filter(latitude__isnull=True).count() == 0


def test_demo_sites_are_around_shanghai_suzhou_and_hangzhou(demo):
    for site in Site.objects.all():
        assert 29.8 <= float(site.latitude) <= 31.8, site
        assert 119.6 <= float(site.longitude) <= 122.2, site
    assert set(Site.objects.values_list("city", flat=True)) == {"上海", "苏州", "杭州"}


def test_invariant_check_catches_a_project_with_another_customers_site(demo):
    project = Project.objects.get(code="HD-2026-01")
    foreign = Site.objects.exclude(customer=project.customer).first()
    project.sites.add(foreign)

    with pytest.raises(ValueError, match="HD-2026-01"):
        loader.check_invariants()


def test_loading_twice_refuses_and_changes_nothing(demo):
    before = User.objects.count()

    with pytest.raises(CommandError, match="--reset"):
        call_command(
            "demo", "--desk-days", "0", "--field-days", "0", "--inspection-days", "0", verbosity=0
        )

    assert User.objects.count() == before


def test_if_empty_leaves_existing_data_alone(cast):
    call_command("demo", "--if-empty", verbosity=0)

    assert not Site.objects.exists()
    assert not User.objects.filter(email="admin@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_reset_wipes_and_reloads(cast):
    # A real transaction: PostgreSQL cannot TRUNCATE tables written earlier in the
    # same transaction (the test's own), which is not how `demo --reset` is used.
    call_command(
        "demo",
        "--reset",
        "--desk-days",
        "0",
        "--field-days",
        "0",
        "--inspection-days",
        "0",
        verbosity=0,
    )

    assert not User.objects.filter(email=cast.dispatcher.email).exists()
    assert User.objects.filter(email="dispatcher@example.com").exists()
    assert Organization.objects.filter(kind=OrganizationKind.OPERATOR).get().code == "operator"


def test_demo_loads_with_a_bounded_number_of_queries(db):
    # Bulk inserts keep the load fast; a per-row loop would multiply this by ten.
    with CaptureQueriesContext(connection) as queries:
        call_command(
            "demo", "--desk-days", "0", "--field-days", "0", "--inspection-days", "0", verbosity=0
        )

    # About 120 statements for the company, 5 per schedule for the round generator (the
    # real service, 25 routes) and 40 for the SOPs and the incentive rule book.
    assert len(queries) < 450, len(queries)
