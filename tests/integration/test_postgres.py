"""With DATABASE_URL set, the suite really runs on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from frontline.accounts.models import Organization
from frontline.accounts.roles import OrganizationKind
from tests.integration.conftest import is_ci

pytestmark = pytest.mark.integration


def _require_postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        # The SQLite pass has no DATABASE_URL by design; CI's PostgreSQL pass sets it.
        pytest.skip(
            "DATABASE_URL does not name PostgreSQL "
            "(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test); "
            "CI runs the suite a second time on PostgreSQL"
        )
    return url


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    _require_postgres_url()

    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        (version,) = cursor.fetchone()
    assert int(version) >= 130000


@pytest.mark.django_db(transaction=True)
def test_row_locks_work_on_postgresql():
    _require_postgres_url()
    from django.db import transaction

    org = Organization.objects.create(
        name="锁测试客户", code="lock-test", kind=OrganizationKind.CUSTOMER
    )
    with transaction.atomic():
        locked = Organization.objects.select_for_update(nowait=True).get(pk=org.pk)
        assert locked.pk == org.pk


def test_ci_postgres_pass_is_configured():
    # In CI's PostgreSQL pass the Makefile exports DATABASE_URL; this guards against a
    # Makefile change that silently drops it (the SQLite pass deselects integration tests).
    if not is_ci():
        pytest.skip("only meaningful with CI=true")
    _require_postgres_url()
