"""The field demo: history played through the services, and a real dispatch day today."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from frontline.demo import loader
from frontline.field.models import (
    EngineerProfile,
    GrabOffer,
    Survey,
    WorkOrder,
    WorkOrderEvent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def played():
    return loader.load(desk_days=0, field_days=4, inspection_days=0)


def test_today_has_a_queue_of_about_120_orders_with_windows_and_skills(played):
    today = timezone.localdate()
    queue = WorkOrder.objects.filter(status="new", window_start__date__gte=today)
    assert queue.count() >= 115
    assert not queue.filter(window_start__isnull=True).exists()
    assert queue.filter(required_skills__isnull=False).distinct().count() == queue.count()
    assert played.field.queue_today == 120


def test_history_went_through_the_services(played):
    statuses = Counter(WorkOrder.objects.values_list("status", flat=True))
    assert statuses["closed"] > 5
    # Every order has its creation event; every closed one its whole story.
    assert WorkOrderEvent.objects.filter(kind="created").count() == WorkOrder.objects.count()
    closed = WorkOrder.objects.filter(status="closed")
    assert not closed.filter(checked_in_at__isnull=True).exists()
    assert Survey.objects.exists()
    assert GrabOffer.objects.filter(status="open").exists()
    # Every engineer has a profile with a home base; most have a position this morning.
    profiles = EngineerProfile.objects.all()
    assert profiles.count() >= 40
    assert profiles.filter(last_position_at__isnull=False).count() > profiles.count() // 2
    # The services refused nothing the story relied on (a weekend offer may find nobody).
    assert all(r.startswith("offer") for r in played.field.refused), played.field.refused
