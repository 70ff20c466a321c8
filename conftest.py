"""Shared test fixtures: a cast of named actors across organisations."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from frontline.accounts.models import Organization, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.testing import factories as f

pytest_plugins = ["frontline.testing.browser", "frontline.testing.races"]


@dataclass
class Cast:
    """Who is who in a test story."""

    operator: Organization
    customer_a: Organization
    customer_b: Organization
    partner: Organization
    supplier: Organization
    admin: User
    manager: User
    dispatcher: User
    agent: User
    engineer: User
    analyst: User
    customer_a_admin: User
    customer_a_user: User
    customer_b_admin: User
    partner_admin: User
    partner_engineer: User
    supplier_contact: User
    outsider: User  # signed in, but belongs to no organisation

    def by_role(self, name: str) -> User:
        return getattr(self, name)


@pytest.fixture
def cast(db) -> Cast:
    op = f.operator()
    customer_a = f.OrganizationFactory(
        name="华东生物制药", code="cust-a", kind=OrganizationKind.CUSTOMER
    )
    customer_b = f.OrganizationFactory(
        name="云谷数据中心", code="cust-b", kind=OrganizationKind.CUSTOMER
    )
    partner = f.OrganizationFactory(
        name="苏州服务网点", code="partner-sz", kind=OrganizationKind.PARTNER
    )
    supplier = f.OrganizationFactory(
        name="备件供应商", code="supplier-1", kind=OrganizationKind.SUPPLIER
    )
    return Cast(
        operator=op,
        customer_a=customer_a,
        customer_b=customer_b,
        partner=partner,
        supplier=supplier,
        admin=f.member(Role.ADMIN, op, email="admin@t.example", display_name="管理员"),
        manager=f.member(Role.MANAGER, op, email="manager@t.example", display_name="经理"),
        dispatcher=f.member(
            Role.DISPATCHER, op, email="dispatcher@t.example", display_name="调度员"
        ),
        agent=f.member(Role.AGENT, op, email="agent@t.example", display_name="客服"),
        engineer=f.member(Role.ENGINEER, op, email="engineer@t.example", display_name="工程师"),
        analyst=f.member(Role.QUALITY_ANALYST, op, email="analyst@t.example", display_name="质检"),
        customer_a_admin=f.member(Role.CUSTOMER_ADMIN, customer_a, email="ca-admin@t.example"),
        customer_a_user=f.member(Role.CUSTOMER_USER, customer_a, email="ca-user@t.example"),
        customer_b_admin=f.member(Role.CUSTOMER_ADMIN, customer_b, email="cb-admin@t.example"),
        partner_admin=f.member(Role.PARTNER_ADMIN, partner, email="p-admin@t.example"),
        partner_engineer=f.member(Role.PARTNER_ENGINEER, partner, email="p-eng@t.example"),
        supplier_contact=f.member(Role.SUPPLIER_CONTACT, supplier, email="sup@t.example"),
        outsider=f.UserFactory(email="outsider@t.example"),
    )


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` signs in with a session."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=None)
        client.force_login(user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the session, end sessions that the live server's request threads left open.

    Chromium keeps HTTP connections alive; the threads serving them may still hold a
    PostgreSQL session when pytest-django drops the test database, which then fails
    with "being accessed by other users". Only this worker's database is touched.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def _media_of_its_own(tmp_path_factory):
    """Uploads in tests go to a folder of the test session's own, never to var/media
    (the demo's files); a test that looks at its files sets MEDIA_ROOT itself."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request that activated zh-hans in an
    earlier test on the same worker thread must not leak into the next one."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
