"""The sync service: every conflict rule, idempotence, ordering, device clocks.
Given/when/then; a refused action also asserts that nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.core.errors import PermissionDenied
from frontline.field import services
from frontline.field.models import ChecklistItem, WorkOrder, WorkOrderEvent
from frontline.field.states import WorkOrderStatus
from frontline.sync.apply import apply_batch
from frontline.sync.models import SyncAction
from frontline.sync.tests.conftest import ON_SITE, act, order_for

pytestmark = pytest.mark.django_db
W = WorkOrderStatus
DONE = {"resolution_code": "fixed", "resolution_notes": "换了轴承"}


def sync(user, actions, device="phone-1"):
    return apply_batch(actor=user, device_id=device, actions=actions)


def statuses(batch):
    return [o.status for o in batch.results]


def day_of(wo, minutes=(50, 40, 30, 20)):
    """Accept, travel, check in, complete: minutes ago on the phone."""
    kinds = [("accept", {}), ("start_travel", {}), ("check_in", ON_SITE), ("complete", DONE)]
    return [
        act(kind, wo, data, ago=dt.timedelta(minutes=m))
        for (kind, data), m in zip(kinds, minutes, strict=True)
    ]


# ---------------------------------------------------------------- applying, in order


def test_a_day_done_offline_applies_in_order_with_the_device_times_kept(cast, eng):
    # Given an order dispatched to the engineer, done offline: accept … complete
    wo = order_for(cast, eng)
    actions = day_of(wo)
    # When the phone syncs
    batch = sync(eng, actions)
    # Then every action applied, in order, and the order is completed
    assert statuses(batch) == ["applied"] * 4
    assert batch.summary == {"applied": 4, "replayed": 0, "rejected": 0, "taken_back": 0,
                             "skipped": 0}  # fmt: skip
    assert [o.result["status"] for o in batch.results] == [W.ACCEPTED, W.EN_ROUTE, W.ON_SITE,
                                                           W.COMPLETED]  # fmt: skip
    wo.refresh_from_db()
    assert wo.status == W.COMPLETED
    # And each action is recorded with both clocks
    rows = list(SyncAction.objects.order_by("batch_position"))
    assert [r.device_at for r in rows] == [a.device_at for a in actions]
    assert all(r.received_at == batch.received_at for r in rows)
    assert rows[0].clock_skew_seconds == round((actions[0].device_at - batch.received_at)
                                               .total_seconds())  # fmt: skip
    assert not any(r.clock_flagged for r in rows)


def test_out_of_order_is_rejected_with_the_state_machines_message_and_the_rest_skipped(cast, eng):
    # Given a phone that queued check-in before accepting (and work on another order)
    wo, other = order_for(cast, eng), order_for(cast, eng)
    events = WorkOrderEvent.objects.filter(work_order=wo).count()
    actions = [act("check_in", wo, ON_SITE), act("accept", wo), act("accept", other)]
    # When it syncs
    batch = sync(eng, actions)
    # Then the check-in is rejected with the transition table's reason, the accept on the
    # same order is skipped (not tried), and the other order is still accepted
    assert statuses(batch) == ["rejected", "skipped", "applied"]
    first = batch.results[0].result
    assert first["code"] == "illegal_transition" and "cannot become" in first["detail"]
    assert batch.results[1].result["code"] == "earlier_not_applied"
    assert batch.results[1].result["fields"] == {"client_id": [str(actions[0].client_id)]}
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED
    assert WorkOrderEvent.objects.filter(work_order=wo).count() == events
    # And the skipped action left no row, so the phone may send it again
    assert not SyncAction.objects.filter(client_id=actions[1].client_id).exists()
    again = sync(eng, [actions[1]])
    assert statuses(again) == ["applied"]


def test_a_domain_error_comes_back_with_code_detail_and_fields(cast, eng):
    # Given an accepted order on site with a checklist item still open
    wo = order_for(cast, eng)
    ChecklistItem.objects.create(work_order=wo, label="检查冷媒压力")
    sync(eng, [act("accept", wo), act("check_in", wo, ON_SITE)])
    # When the phone completes it without answering, and rejects with no reason elsewhere
    batch = sync(eng, [act("complete", wo, DONE), act("reject", order_for(cast, eng))])
    # Then both are rejected with the service's code and the fields named
    assert statuses(batch) == ["rejected", "rejected"]
    assert batch.results[0].result["code"] == "checklist_open"
    assert "checklist" in batch.results[0].result["fields"]
    assert batch.results[1].result["fields"].keys() == {"reason"}


def test_checklist_answers_and_the_signature_go_through_the_field_services(cast, eng):
    wo = order_for(cast, eng)
    item = ChecklistItem.objects.create(work_order=wo, label="检查冷媒压力")
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    batch = sync(eng, [
        act("accept", wo), act("check_in", wo, ON_SITE),
        act("checklist", wo, {"item": item.pk, "result": "ok", "note": "0.8 MPa"}),
        act("sign", wo, {"signature": png, "signed_by": "王工"}),
        act("complete", wo, DONE),
    ])  # fmt: skip
    assert statuses(batch) == ["applied"] * 5
    item.refresh_from_db()
    wo.refresh_from_db()
    assert item.result == "ok" and item.checked_by == eng
    assert wo.signed_by == "王工" and wo.status == W.COMPLETED
    # The row keeps the signature's digest, not the image
    row = SyncAction.objects.get(kind="sign")
    assert set(row.payload["signature"]) == {"sha256", "chars"}


# ---------------------------------------------------------------- idempotence


def test_a_batch_sent_twice_applies_nothing_twice_and_replays_the_first_results(cast, eng):
    wo = order_for(cast, eng)
    actions = day_of(wo)
    first = sync(eng, actions)
    events = WorkOrderEvent.objects.filter(work_order=wo).count()
    # When the phone, which never saw the answer, sends the same batch again
    second = sync(eng, actions)
    # Then every action is replayed with its first result and nothing changed
    assert statuses(second) == ["replayed"] * 4
    assert [o.result for o in second.results] == [o.result for o in first.results]
    assert {o.original_status for o in second.results} == {"applied"}
    assert WorkOrderEvent.objects.filter(work_order=wo).count() == events
    assert SyncAction.objects.count() == 4


def test_a_reordered_resend_applies_only_what_is_new(cast, eng):
    wo = order_for(cast, eng)
    accept, travel, check_in, complete = day_of(wo)
    sync(eng, [accept, travel])
    # When the phone resends everything, the sent part last
    batch = sync(eng, [check_in, complete, accept, travel])
    assert statuses(batch) == ["applied", "applied", "replayed", "replayed"]
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="accepted").count() == 1


def test_a_rejection_is_final_for_its_client_id_and_still_blocks_the_target(cast, eng):
    wo = order_for(cast, eng)
    bad, later = act("check_in", wo, ON_SITE), act("start_travel", wo)
    sync(eng, [bad, later])
    # When the same two are sent again
    batch = sync(eng, [bad, later])
    # Then the first is its stored rejection, replayed, and the second is skipped again
    assert statuses(batch) == ["replayed", "skipped"]
    assert batch.results[0].original_status == "rejected"
    assert batch.results[0].result["code"] == "illegal_transition"


def test_the_same_client_id_with_another_body_is_rejected(cast, eng):
    wo = order_for(cast, eng)
    first = act("accept", wo)
    sync(eng, [first])
    forged = act("reject", wo, {"reason": "太远"}, client_id=first.client_id)
    batch = sync(eng, [forged])
    assert statuses(batch) == ["rejected"]
    assert batch.results[0].result["code"] == "client_id_reused"
    wo.refresh_from_db()
    assert wo.status == W.ACCEPTED


def test_another_engineers_client_id_is_rejected_without_saying_whose(cast, eng, colleague):
    # Given the colleague synced an action on their own order
    theirs = order_for(cast, colleague)
    used = act("accept", theirs)
    sync(colleague, [used])
    mine = order_for(cast, eng)
    # When the engineer sends an action with that client id
    forged = act("accept", mine, client_id=used.client_id)
    batch = sync(eng, [forged])
    # Then it is rejected, saying nothing of the other action, and nothing changed
    assert statuses(batch) == ["rejected"]
    result = batch.results[0].result
    assert result["code"] == "client_id_taken"
    assert theirs.number not in str(result) and str(theirs.pk) not in result["detail"]
    mine.refresh_from_db()
    assert mine.status == W.DISPATCHED
    assert SyncAction.objects.filter(user=eng).count() == 0


# ---------------------------------------------------------------- the server wins on assignment


def test_an_order_reassigned_while_offline_is_taken_back_and_its_actions_not_applied(
    cast, eng, colleague
):
    # Given an order of the engineer's that the dispatcher gave to a colleague meanwhile
    wo = order_for(cast, eng)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=colleague)
    events = WorkOrderEvent.objects.filter(work_order=wo).count()
    # When the phone syncs the day's work on it
    batch = sync(eng, day_of(wo))
    # Then the first is taken back with a reason naming the order, the rest are skipped
    assert statuses(batch) == ["taken_back", "skipped", "skipped", "skipped"]
    assert batch.results[0].result["code"] == "taken_back"
    assert wo.number in batch.results[0].result["detail"]
    wo.refresh_from_db()
    assert wo.assignee == colleague and wo.status == W.DISPATCHED
    assert WorkOrderEvent.objects.filter(work_order=wo).count() == events


def test_a_cancelled_order_is_taken_back(cast, eng):
    wo = order_for(cast, eng)
    services.cancel(actor=cast.dispatcher, work_order=wo, reason="客户取消")
    batch = sync(eng, [act("accept", wo)])
    assert statuses(batch) == ["taken_back"]
    assert "cancelled" in batch.results[0].result["detail"]


def test_an_order_rejected_back_to_the_queue_is_taken_back_for_later_actions(cast, eng):
    wo = order_for(cast, eng)
    batch = sync(eng, [act("reject", wo, {"reason": "没有备件"}), act("accept", wo)])
    assert statuses(batch) == ["applied", "taken_back"]
    wo.refresh_from_db()
    assert wo.status == W.REJECTED and wo.assignee is None


def test_work_one_cannot_see_is_taken_back_without_saying_anything_about_it(cast):
    # Given a partner outlet's engineer and an operator order they cannot see
    from frontline.field.tests.factories import engineer

    outlet_engineer = engineer(user=cast.partner_engineer)
    hidden = order_for(cast, engineer())
    # When their phone sends an action on it, and on an id that does not exist
    batch = sync(outlet_engineer, [act("accept", hidden), act("accept", 10**12)])
    # Then both get the same answer, which names neither
    assert statuses(batch) == ["taken_back", "taken_back"]
    assert batch.results[0].result == batch.results[1].result
    assert hidden.number not in batch.results[0].result["detail"]
    hidden.refresh_from_db()
    assert hidden.status == W.DISPATCHED


def test_only_engineers_sync(cast):
    for user in (cast.dispatcher, cast.customer_a_admin, cast.outsider):
        with pytest.raises(PermissionDenied):
            sync(user, [])


# ---------------------------------------------------------------- device clocks


def test_implausible_device_clocks_are_flagged_and_impossible_ones_refused(cast, eng):
    # The work-order verbs keep the device's time within the rounds' bounds: a time in the
    # future or a month old is refused (rejected, "at" named); one that went backwards in
    # the batch is applied, and all three are flagged.
    now = timezone.now()
    orders = [order_for(cast, eng) for _ in range(4)]
    batch = sync(eng, [
        act("accept", orders[0], at=now - dt.timedelta(minutes=10)),  # fine
        act("accept", orders[1], at=now + dt.timedelta(minutes=20)),  # in the future
        act("accept", orders[2], at=now - dt.timedelta(minutes=30)),  # backwards in the batch
        act("accept", orders[3], at=now - dt.timedelta(days=31)),  # a month old
    ])  # fmt: skip
    assert statuses(batch) == ["applied", "rejected", "applied", "rejected"]
    assert "at" in batch.results[1].result["fields"] and "at" in batch.results[3].result["fields"]
    assert [o.clock_flagged for o in batch.results] == [False, True, True, True]
    rows = SyncAction.objects.order_by("batch_position")
    assert [r.clock_flagged for r in rows] == [False, True, True, True]
    assert rows[1].clock_skew_seconds > 19 * 60


def test_a_clock_behind_the_devices_last_sync_is_flagged(cast, eng):
    now = timezone.now()
    sync(eng, [act("accept", order_for(cast, eng), at=now - dt.timedelta(minutes=1))])
    later = sync(eng, [act("accept", order_for(cast, eng), at=now - dt.timedelta(hours=2))])
    other_phone = sync(eng, [act("accept", order_for(cast, eng), at=now - dt.timedelta(hours=2))],
                       device="phone-2")  # fmt: skip
    assert later.results[0].clock_flagged
    assert not other_phone.results[0].clock_flagged


# ---------------------------------------------------------------- scoping


def test_synced_actions_are_visible_to_their_engineer_and_to_field_leads(cast, eng, colleague):
    sync(eng, [act("accept", order_for(cast, eng))])
    sync(colleague, [act("accept", order_for(cast, colleague))])
    assert list(SyncAction.objects.visible_to(eng).values_list("user", flat=True)) == [eng.pk]
    assert SyncAction.objects.visible_to(cast.dispatcher).count() == 2
    assert SyncAction.objects.visible_to(cast.manager).count() == 2
    for user in (cast.customer_a_admin, cast.agent, cast.outsider, cast.supplier_contact):
        assert SyncAction.objects.visible_to(user).count() == 0
    assert WorkOrder.objects.count() == 2


def test_a_client_id_twice_in_one_batch_is_applied_once(cast, eng):
    wo = order_for(cast, eng)
    accept = act("accept", wo)
    other_body = act("start_travel", wo, client_id=accept.client_id)
    batch = sync(eng, [accept, accept, other_body])
    assert statuses(batch) == ["applied", "replayed", "rejected"]
    assert batch.results[2].result["code"] == "client_id_reused"
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="accepted").count() == 1
    wo.refresh_from_db()
    assert wo.status == W.ACCEPTED


def test_the_admin_shows_synced_actions_read_only(cast, eng):
    from django.test import Client
    from django.urls import reverse

    from frontline.testing import factories as f

    sync(eng, [act("accept", order_for(cast, eng))])
    root = Client()
    root.force_login(f.UserFactory(email="root@t.example", is_superuser=True, is_staff=True))
    row = SyncAction.objects.get()
    assert root.get(reverse("admin:sync_syncaction_changelist")).status_code == 200
    assert root.get(reverse("admin:sync_syncaction_change", args=[row.pk])).status_code == 200
    assert root.get(reverse("admin:sync_syncaction_add")).status_code == 403
