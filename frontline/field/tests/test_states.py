"""The one transition table: every status is in it, and nothing moves outside it."""

from __future__ import annotations

import pytest

from frontline.core.errors import Conflict
from frontline.field.events import move
from frontline.field.models import WorkOrder
from frontline.field.states import TRANSITIONS, WorkOrderStatus, allowed_next
from frontline.field.tests.factories import WorkOrderFactory

W = WorkOrderStatus
ALL = list(W.values)


def test_every_status_has_a_row_and_targets_are_statuses():
    assert set(TRANSITIONS) == set(ALL)
    for targets in TRANSITIONS.values():
        assert targets <= set(ALL)


def test_closed_and_cancelled_are_terminal():
    assert allowed_next(W.CLOSED) == [] and allowed_next(W.CANCELLED) == []


def test_the_happy_path_is_allowed():
    path = [W.NEW, W.DISPATCHED, W.ACCEPTED, W.EN_ROUTE, W.ON_SITE, W.COMPLETED, W.CLOSED]
    for old, new in zip(path, path[1:], strict=False):
        assert new in TRANSITIONS[old]


@pytest.mark.django_db
@pytest.mark.parametrize("old", ALL)
def test_moves_outside_the_table_are_409_and_change_nothing(old):
    wo = WorkOrderFactory(status=old)
    for new in set(ALL) - TRANSITIONS[old]:
        with pytest.raises(Conflict) as exc:
            move(wo, new)
        assert exc.value.code == "illegal_transition"
        assert exc.value.fields["status"] == allowed_next(old)
        assert WorkOrder.objects.get(pk=wo.pk).status == old


@pytest.mark.django_db
def test_a_stale_read_loses_the_compare_and_set():
    wo = WorkOrderFactory(status=W.NEW)
    stale = WorkOrder.objects.get(pk=wo.pk)
    move(wo, W.ON_HOLD)
    with pytest.raises(Conflict) as exc:
        move(stale, W.CANCELLED)
    assert exc.value.code == "stale"
    assert WorkOrder.objects.get(pk=wo.pk).status == W.ON_HOLD
