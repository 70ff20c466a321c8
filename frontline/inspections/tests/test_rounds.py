"""Doing a round through the services: start, visits with readings, skips, finish, cancel,
and the sweep. Given/when/then."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.field.models import WorkOrder
from frontline.inspections import rounds
from frontline.inspections.models import Anomaly, PointVisit, Reading, Round
from frontline.inspections.states import AnomalyAction, ItemKind, RoundStatus
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def route(cast):
    return fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)


@pytest.fixture
def rnd(route, cast):
    return fi.round_for(route, cast.engineer)


def items_of(route, code="P01"):
    cp = route.checkpoints.get(code=code)
    temp, pressure, leak = list(cp.items.order_by("position"))
    return cp, temp, pressure, leak


def normal(temp, pressure, leak):
    return [
        {"item": temp.pk, "value": 7.5},
        {"item": pressure.pk, "value": "0.35"},
        {"item": leak.pk, "value": False},
    ]


def test_visit_records_readings_and_starts_the_round(cast, route, rnd):
    # Given a scheduled round of the engineer's and a checkpoint's three readings
    cp, temp, pressure, leak = items_of(route)
    # When the engineer records the visit (the round starts with it)
    visit, created = rounds.record_visit(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        readings=normal(temp, pressure, leak),
        client_id=str(uuid.uuid4()),
        scanned=True,
    )
    # Then the visit and its readings are stored and the round counts it
    assert created
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.IN_PROGRESS and rnd.started_at is not None
    assert rnd.points_visited == 1
    values = {r.item_id: r for r in Reading.objects.filter(visit=visit)}
    assert values[temp.pk].number == Decimal("7.5000")
    assert values[pressure.pk].number == Decimal("0.3500")
    assert values[leak.pk].answer is False
    assert not any(r.is_abnormal for r in values.values())
    assert visit.scanned


def test_retry_with_same_client_id_is_a_no_op(cast, route, rnd):
    cp, temp, pressure, leak = items_of(route)
    cid = str(uuid.uuid4())
    first, _ = rounds.record_visit(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        readings=normal(temp, pressure, leak),
        client_id=cid,
    )
    again, created = rounds.record_visit(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        readings=normal(temp, pressure, leak),
        client_id=cid,
    )
    assert again.pk == first.pk and created is False
    rnd.refresh_from_db()
    assert rnd.points_visited == 1 and Reading.objects.count() == 3


def test_client_id_of_another_round_is_409_and_reveals_nothing(cast, route, rnd):
    cp, temp, pressure, leak = items_of(route)
    cid = str(uuid.uuid4())
    rounds.record_visit(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        readings=normal(temp, pressure, leak),
        client_id=cid,
    )
    other_eng = f.member("engineer", cast.operator, email="e2@t.example")
    other_round = fi.round_for(route, other_eng)
    with pytest.raises(Conflict) as exc:
        rounds.record_visit(
            actor=other_eng,
            round=other_round,
            checkpoint=cp,
            readings=normal(temp, pressure, leak),
            client_id=cid,
        )
    assert exc.value.code == "client_id_used"
    assert str(rnd.pk) not in str(exc.value.message)
    assert PointVisit.objects.filter(round=other_round).count() == 0


def test_second_visit_to_a_checkpoint_is_409(cast, route, rnd):
    cp, temp, pressure, leak = items_of(route)
    rounds.record_visit(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        readings=normal(temp, pressure, leak),
        client_id=str(uuid.uuid4()),
    )
    with pytest.raises(Conflict) as exc:
        rounds.record_visit(
            actor=cast.engineer,
            round=rnd,
            checkpoint=cp,
            readings=normal(temp, pressure, leak),
            client_id=str(uuid.uuid4()),
        )
    assert exc.value.code == "already_visited"
    assert "P01" in str(exc.value.message)


def test_checkpoint_of_another_route_is_400(cast, route, rnd):
    other = fi.route(customer=cast.customer_a)
    cp = other.checkpoints.first()
    with pytest.raises(ValidationFailed) as exc:
        rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=[])
    assert "checkpoint" in exc.value.fields
    assert PointVisit.objects.count() == 0


@pytest.mark.parametrize(
    "which,value",
    [
        ("temp", "hot"),
        ("temp", True),
        ("temp", 1e12),
        ("temp", "NaN"),
        ("temp", "Infinity"),
        ("temp", [1]),
        ("temp", -1_000_000_000),
        ("leak", "no"),
        ("leak", 0),
    ],
)
def test_wrong_type_or_absurd_value_is_400_naming_the_item(cast, route, rnd, which, value):
    cp, temp, pressure, leak = items_of(route)
    readings = normal(temp, pressure, leak)
    target = {"temp": temp, "leak": leak}[which]
    for r in readings:
        if r["item"] == target.pk:
            r["value"] = value
    with pytest.raises(ValidationFailed) as exc:
        rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=readings)
    key = f"readings.{target.pk}"
    assert key in exc.value.fields
    assert target.name in exc.value.fields[key][0]
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.SCHEDULED and PointVisit.objects.count() == 0


def test_numbers_keep_four_places(cast, route, rnd):
    cp, temp, pressure, leak = items_of(route)
    readings = normal(temp, pressure, leak)
    readings[0]["value"] = "7.123456"
    visit, _ = rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=readings)
    assert Reading.objects.get(visit=visit, item=temp).number == Decimal("7.1235")


def test_missing_required_item_and_foreign_item_are_400(cast, route, rnd):
    cp, temp, pressure, leak = items_of(route)
    with pytest.raises(ValidationFailed) as exc:
        rounds.record_visit(
            actor=cast.engineer, round=rnd, checkpoint=cp, readings=[{"item": temp.pk, "value": 7}]
        )
    assert f"readings.{pressure.pk}" in exc.value.fields
    _cp2, temp2, _p2, _l2 = items_of(route, "P02")
    readings = normal(temp, pressure, leak) + [{"item": temp2.pk, "value": 7}]
    with pytest.raises(ValidationFailed) as exc:
        rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=readings)
    assert f"readings.{temp2.pk}" in exc.value.fields


def test_choice_text_and_photo_items(cast):
    # Given a route whose checkpoint has a choice, a text note and a required photo
    route = fi.route(
        customer=cast.customer_a,
        points=1,
        anomaly_action=AnomalyAction.NONE,
        items=(
            {
                "name": "运行状态",
                "kind": ItemKind.CHOICE,
                "choices": ["正常", "报警", "停机"],
                "abnormal_choices": ["报警"],
            },
            {"name": "备注", "kind": ItemKind.TEXT},
            {"name": "仪表照片", "kind": ItemKind.PHOTO},
        ),
    )
    rnd = fi.round_for(route, cast.engineer)
    cp = route.checkpoints.get()
    state, note, photo = list(cp.items.order_by("position"))
    base = [{"item": state.pk, "value": "报警"}, {"item": note.pk, "value": "  有异响  "}]
    # When the photo is missing → 400; an SVG pretending to be a photo → 400
    with pytest.raises(ValidationFailed) as exc:
        rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=base)
    assert f"readings.{photo.pk}" in exc.value.fields
    svg = SimpleUploadedFile("x.png", b"<svg onload=alert(1)></svg>")
    with pytest.raises(ValidationFailed):
        rounds.record_visit(
            actor=cast.engineer, round=rnd, checkpoint=cp, readings=base, photos={photo.pk: svg}
        )
    # A choice not offered → 400; text too long → 400
    with pytest.raises(ValidationFailed):
        rounds.record_visit(
            actor=cast.engineer,
            round=rnd,
            checkpoint=cp,
            readings=[{"item": state.pk, "value": "爆炸"}, base[1]],
            photos={photo.pk: SimpleUploadedFile("a.png", png_bytes())},
        )
    with pytest.raises(ValidationFailed):
        rounds.record_visit(
            actor=cast.engineer,
            round=rnd,
            checkpoint=cp,
            readings=[base[0], {"item": note.pk, "value": "x" * 501}],
            photos={photo.pk: SimpleUploadedFile("a.png", png_bytes())},
        )
    # Then with a real PNG it is stored, the alarm choice abnormal, the note stripped
    visit, _ = rounds.record_visit(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        readings=base,
        photos={photo.pk: SimpleUploadedFile("a.png", png_bytes())},
    )
    got = {r.item_id: r for r in visit.readings.all()}
    assert got[state.pk].is_abnormal and got[state.pk].text == "报警"
    assert got[note.pk].text == "有异响"
    assert got[photo.pk].photo.name.startswith("inspections/photos/")


def test_visit_after_finish_is_409(cast, route, rnd):
    cp, temp, pressure, leak = items_of(route)
    rounds.start_round(actor=cast.engineer, round=rnd)
    rounds.finish_round(actor=cast.engineer, round=rnd)
    cp2, t2, p2, l2 = items_of(route, "P02")
    with pytest.raises(Conflict) as exc:
        rounds.record_visit(
            actor=cast.engineer, round=rnd, checkpoint=cp2, readings=normal(t2, p2, l2)
        )
    assert exc.value.code == "round_closed"
    with pytest.raises(Conflict):
        rounds.skip_point(actor=cast.engineer, round=rnd, checkpoint=cp2, reason="no_access")
    with pytest.raises(Conflict):
        rounds.finish_round(actor=cast.engineer, round=rnd)
    assert PointVisit.objects.count() == 0


@pytest.mark.parametrize("who", ["dispatcher", "customer_a_user", "partner_engineer", "analyst"])
def test_others_cannot_act_on_the_engineers_round(cast, route, rnd, who):
    cp, temp, pressure, leak = items_of(route)
    actor = cast.by_role(who)
    with pytest.raises(PermissionDenied):
        rounds.record_visit(
            actor=actor, round=rnd, checkpoint=cp, readings=normal(temp, pressure, leak)
        )
    with pytest.raises(PermissionDenied):
        rounds.start_round(actor=actor, round=rnd)
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.SCHEDULED and PointVisit.objects.count() == 0


def test_another_engineer_cannot_act_on_an_assigned_round(cast, route, rnd):
    other = f.member("engineer", cast.operator, email="e3@t.example")
    with pytest.raises(PermissionDenied):
        rounds.start_round(actor=other, round=rnd)
    rnd.refresh_from_db()
    assert rnd.assignee_id == cast.engineer.pk and rnd.status == RoundStatus.SCHEDULED


def test_an_unassigned_round_is_taken_by_starting_it(cast, route):
    rnd = fi.round_for(route, None)
    rounds.start_round(actor=cast.engineer, round=rnd)
    rnd.refresh_from_db()
    assert rnd.assignee_id == cast.engineer.pk and rnd.status == RoundStatus.IN_PROGRESS


def test_an_offered_round_must_be_claimed_first(cast, route):
    rnd = fi.round_for(route, None, offered=True)
    with pytest.raises(Conflict) as exc:
        rounds.start_round(actor=cast.engineer, round=rnd)
    assert exc.value.code == "claim_first"
    rounds.claim_round(actor=cast.engineer, round=rnd)
    other = f.member("engineer", cast.operator, email="e4@t.example")
    with pytest.raises(Conflict) as exc:
        rounds.claim_round(actor=other, round=rnd)
    assert exc.value.code == "round_taken"
    rnd.refresh_from_db()
    assert rnd.assignee_id == cast.engineer.pk and not rnd.offered


def test_claim_needs_the_team_and_field_work(cast, route):
    team = f.TeamFactory()
    team.members.add(cast.engineer)
    rnd = fi.round_for(route, None, offered=True, team=team)
    outsider_eng = f.member("engineer", cast.operator, email="e5@t.example")
    with pytest.raises(PermissionDenied):
        rounds.claim_round(actor=outsider_eng, round=rnd)
    with pytest.raises(PermissionDenied):
        rounds.claim_round(actor=cast.dispatcher, round=rnd)
    rnd.refresh_from_db()
    assert rnd.assignee_id is None and rnd.offered
    rounds.claim_round(actor=cast.engineer, round=rnd)


def test_skip_needs_a_reason(cast, route, rnd):
    cp, *_ = items_of(route)
    with pytest.raises(ValidationFailed):
        rounds.skip_point(actor=cast.engineer, round=rnd, checkpoint=cp, reason="")
    with pytest.raises(ValidationFailed) as exc:
        rounds.skip_point(actor=cast.engineer, round=rnd, checkpoint=cp, reason="other")
    assert "note" in exc.value.fields
    visit, created = rounds.skip_point(
        actor=cast.engineer,
        round=rnd,
        checkpoint=cp,
        reason="equipment_off",
        client_id=str(uuid.uuid4()),
    )
    rnd.refresh_from_db()
    assert created and visit.status == "skipped" and rnd.points_skipped == 1


def test_finish_scores_the_round(cast, route, rnd):
    start = timezone.now() - dt.timedelta(minutes=5)
    rounds.start_round(actor=cast.engineer, round=rnd, at=start)
    for i, code in enumerate(("P01", "P02", "P03")):
        cp, temp, pressure, leak = items_of(route, code)
        rounds.record_visit(
            actor=cast.engineer,
            round=rnd,
            checkpoint=cp,
            readings=normal(temp, pressure, leak),
            recorded_at=start + dt.timedelta(minutes=i + 1),
        )
    done = rounds.finish_round(actor=cast.engineer, round=rnd)
    assert done.status == RoundStatus.COMPLETED
    assert done.quality_score == done.quality_computed == Decimal("100.00")
    assert set(done.quality_parts) == {"coverage", "timeliness", "anomalies", "pace", "photos"}


def test_finish_before_start_is_409(cast, rnd):
    with pytest.raises(Conflict) as exc:
        rounds.finish_round(actor=cast.engineer, round=rnd)
    assert exc.value.code == "not_started"


def test_device_time_in_the_future_is_400(cast, rnd):
    with pytest.raises(ValidationFailed) as exc:
        rounds.start_round(
            actor=cast.engineer, round=rnd, at=timezone.now() + dt.timedelta(hours=1)
        )
    assert "at" in exc.value.fields


def test_cancel_round_by_dispatcher_with_reason(cast, rnd):
    with pytest.raises(PermissionDenied):
        rounds.cancel_round(actor=cast.engineer, round=rnd, reason="x")
    with pytest.raises(ValidationFailed):
        rounds.cancel_round(actor=cast.dispatcher, round=rnd, reason=" ")
    done = rounds.cancel_round(actor=cast.dispatcher, round=rnd, reason="停机检修")
    assert done.status == RoundStatus.CANCELLED
    with pytest.raises(Conflict):
        rounds.cancel_round(actor=cast.manager, round=rnd, reason="again")


def test_sweep_marks_missed_and_abandoned(cast, route, settings):
    settings.INSPECTIONS_ABANDON_AFTER_HOURS = 12
    now = timezone.now()
    late = fi.round_for(route, cast.engineer, opens=now - dt.timedelta(hours=3), minutes=60)
    open_now = fi.round_for(route, cast.engineer)
    walking = fi.round_for(
        route,
        cast.engineer,
        opens=now - dt.timedelta(hours=20),
        minutes=60,
        status=RoundStatus.IN_PROGRESS,
        started_at=now - dt.timedelta(hours=19),
    )
    recent = fi.round_for(
        route,
        cast.engineer,
        opens=now - dt.timedelta(hours=4),
        minutes=60,
        status=RoundStatus.IN_PROGRESS,
        started_at=now - dt.timedelta(hours=4),
    )
    assert rounds.close_overdue_rounds(now=now) == 2
    assert rounds.close_overdue_rounds(now=now) == 0
    status = dict(Round.objects.values_list("pk", "status"))
    assert status[late.pk] == status[walking.pk] == RoundStatus.MISSED
    assert status[open_now.pk] == RoundStatus.SCHEDULED
    assert status[recent.pk] == RoundStatus.IN_PROGRESS


def test_abnormal_reading_raises_anomaly_and_work_order(cast):
    # Given a route whose anomalies open work orders for a team at high priority
    team = f.TeamFactory()
    route = fi.route(
        customer=cast.customer_a,
        anomaly_action=AnomalyAction.WORK_ORDER,
        anomaly_priority="high",
        anomaly_team=team,
    )
    rnd = fi.round_for(route, cast.engineer)
    cp, temp, pressure, leak = items_of(route)
    readings = normal(temp, pressure, leak)
    readings[0]["value"] = 15
    # When the engineer records an out-of-range temperature
    rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=readings)
    # Then one anomaly with a follow-up work order
    anomaly = Anomaly.objects.get()
    assert anomaly.item_id == temp.pk and anomaly.source == "out_of_range"
    wo = WorkOrder.objects.get()
    assert anomaly.work_order_id == wo.pk
    assert wo.type == "inspection_follow_up" and wo.priority == "high" and wo.team_id == team.pk
    assert wo.site_id == route.site_id and wo.project_id == route.project_id
    assert route.code in wo.title and "P01" in wo.title


def test_admin_pages_show_rounds_read_only(cast, route, rnd, client):
    # Given a superuser (the admin site is for support staff)
    boss = f.UserFactory(email="root@t.example", is_staff=True, is_superuser=True)
    client.force_login(boss)
    cp, temp, pressure, leak = items_of(route)
    rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp,
                        readings=normal(temp, pressure, leak))  # fmt: skip
    for name in ("route", "checkpoint", "schedule", "qualityscheme", "sop", "sopversion", "round",
                 "pointvisit", "anomaly"):  # fmt: skip
        assert client.get(f"/admin/inspections/{name}/").status_code == 200, name
    assert client.get(f"/admin/inspections/round/{rnd.pk}/change/").status_code == 200
    assert client.get("/admin/inspections/round/add/").status_code == 403


def test_a_round_cannot_start_long_before_its_window(cast, route):
    later = fi.round_for(route, cast.engineer, opens=timezone.now() + dt.timedelta(hours=3))
    with pytest.raises(Conflict) as exc:
        rounds.start_round(actor=cast.engineer, round=later)
    assert exc.value.code == "too_early"
    cp, temp, pressure, leak = items_of(route)
    with pytest.raises(Conflict):
        rounds.record_visit(actor=cast.engineer, round=later, checkpoint=cp,
                            readings=normal(temp, pressure, leak))  # fmt: skip
    soon = fi.round_for(route, cast.engineer, opens=timezone.now() + dt.timedelta(minutes=30))
    assert rounds.start_round(actor=cast.engineer, round=soon).status == RoundStatus.IN_PROGRESS
    later.refresh_from_db()
    assert later.status == RoundStatus.SCHEDULED and PointVisit.objects.count() == 0


def test_a_visit_that_fails_after_its_photo_is_stored_leaves_no_file(
    cast, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"
    route = fi.route(
        customer=cast.customer_a, points=1, items=({"name": "仪表照片", "kind": ItemKind.PHOTO},)
    )
    rnd = fi.round_for(route, cast.engineer)
    cp = route.checkpoints.get()
    (photo,) = cp.items.all()

    # Given raising the visit's anomalies fails after its readings (and photo) are stored
    def fail(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(rounds.anomalies, "raise_for_visit", fail)
    # When the engineer records the checkpoint with its photo
    with pytest.raises(RuntimeError):
        rounds.record_visit(
            actor=cast.engineer, round=rnd, checkpoint=cp, readings=[],
            photos={photo.pk: SimpleUploadedFile("a.png", png_bytes())},
        )  # fmt: skip
    # Then no visit, no reading and no file is left
    assert not PointVisit.objects.exists() and not Reading.objects.exists()
    assert [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] == []
