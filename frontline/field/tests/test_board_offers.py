"""Offers made from the board expire back to the queue through the beat job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from frontline.field import tasks
from frontline.field.models import GrabOffer, WorkOrder
from frontline.field.states import OfferStatus, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_the_beat_runs_expire_offers_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["field-expire-offers"]
    assert entry == {"task": "frontline.field.tasks.expire_offers", "schedule": 60}


def test_an_unclaimed_board_offer_expires_back_to_the_queue(client, cast):
    # Given an order offered from the board
    engineer(user=cast.engineer)
    wo = queue_order(site=f.SiteFactory(customer=cast.customer_a))
    client.force_login(cast.dispatcher)
    client.post(reverse("field:board-offer", args=[wo.pk]))
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.OFFERED
    # When nobody claims it in time and the beat job runs
    GrabOffer.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.expire_offers.delay().get() == 1
    # Then it is back in the queue, on the board, and a second run does nothing
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.NEW
    assert GrabOffer.objects.get().status == OfferStatus.EXPIRED
    assert wo.pk in [o.pk for o in client.get(reverse("field:board")).context["queue"]]
    assert tasks.expire_offers() == 0
