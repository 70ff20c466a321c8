"""A small, complete world for the API fuzzer, seeded once per module (and xdist worker).

The demo company (a few days of history) gives every model reachable by the API rows
in several organisations. It is written inside one transaction that is rolled back when
the module ends; each test then runs in a savepoint of its own (pytest-django's ``db``),
so the fuzzer's POST/PATCH/DELETE calls roll back too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.core import signals
from django.db import close_old_connections, transaction

from frontline.accounts import tokens
from frontline.accounts.models import User
from tests.integration.conftest import require_url

# The roles the fuzzer calls the API as, and the demo login that plays each.
ROLE_LOGINS = {
    "admin": "admin@example.com",
    "dispatcher": "dispatcher@example.com",
    "agent": "agent@example.com",
    "engineer": "engineer@example.com",
    "customer_admin": "customer-a@example.com",
    "customer_user": "hd-facility@example.com",
    "partner_admin": "partner@example.com",
    "partner_engineer": "sz-eng1@example.com",
}


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)  # role -> raw bearer token
    ids: dict[str, list[str]] = field(default_factory=dict)  # path prefix -> real ids


def _seed() -> World:
    from frontline.demo import loader

    with mock.patch("frontline.notifications.tasks.send_email.delay"):
        loader.load(desk_days=3, field_days=2, inspection_days=3)
    world = World()
    for role, email in ROLE_LOGINS.items():
        user = User.objects.get(email=email)
        _token, raw = tokens.create_token(actor=user, user=user, name="fuzz")
        world.tokens[role] = raw
    from tests.fuzz.ids import real_ids

    world.ids = real_ids()
    return world


@pytest.fixture(scope="module")
def fuzz_world(request):
    # Skip (or, with CI=true, fail) before creating the test database and the world.
    require_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    return request.getfixturevalue("_seeded_world")


@pytest.fixture(scope="module")
def _seeded_world(django_db_setup, django_db_blocker):
    # Requests reach the WSGI handler directly, which would close the connection (and
    # with it the test transaction) at each request's end; Django's test client does the
    # same disconnection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _seed()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


# Found by the fuzzer and not fixed yet: operation -> why. Reported as xfail (not strict:
# whether an example hits the bug depends on the role drawn), so the list must shrink.
KNOWN_FAILURES: dict[str, str] = {
    # "GET /api/v1/…/": "why the schema and the answer disagree, until fixed",
}


def pytest_collection_modifyitems(items):
    for item in items:
        label = item.name.partition("[")[2].removesuffix("]")
        if item.name.startswith("test_api[") and label in KNOWN_FAILURES:
            item.add_marker(pytest.mark.xfail(reason=KNOWN_FAILURES[label], strict=False))
