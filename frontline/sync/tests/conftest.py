"""The sync story's actors: an engineer with a phone, a colleague, their dispatcher."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone

from frontline.field import services
from frontline.field.tests.factories import engineer
from frontline.sync.apply import Action
from frontline.testing import factories as f

# The site's position in the factories: a check-in there is not flagged.
ON_SITE = {"latitude": "31.2034", "longitude": "121.587"}


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """Throttle counters live in the cache, keyed by user id; ids repeat across tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eng(cast):
    """The engineer with the phone."""
    return engineer(user=cast.engineer)


@pytest.fixture
def colleague(cast):
    """Another engineer of the same company."""
    return engineer(user=f.member("engineer", cast.operator, email="colleague@t.example"))


def order_for(cast, who, **kw):
    """A work order of customer A dispatched to ``who``."""
    site = f.SiteFactory(customer=cast.customer_a)
    wo = services.create_work_order(actor=cast.dispatcher, title="冷机异响", site=site, **kw)
    return services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=who)


def act(kind, target, data=None, *, at=None, client_id=None, ago=None) -> Action:
    """One queued action; ``ago`` (a timedelta) before now on the device's clock."""
    device_at = at or timezone.now() - (ago if ago is not None else dt.timedelta(minutes=5))
    return Action(client_id=client_id or uuid.uuid4(), kind=kind, target=getattr(target, "pk", target),
                  device_at=device_at, data=data or {})  # fmt: skip


def wire(action: Action) -> dict:
    """The action as the phone sends it."""
    return {"client_id": str(action.client_id), "kind": action.kind, "target": action.target,
            "device_at": action.device_at.isoformat(), "data": action.data}  # fmt: skip
