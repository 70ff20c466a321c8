"""Doing a round: claim, start, record a checkpoint visit, skip one, finish, cancel, and
the sweep that closes rounds nobody did.

Who acts: the round's engineer. On an unassigned round that is not on offer, an
engineer who may do rounds (of the round's team, when it has one) takes it by starting
it or recording its first visit; an offered round is claimed first (the first claim
wins, compare-and-set). Everyone else gets 403, nothing changed.

Device timestamps (``started_at``, ``recorded_at``, ``at``) are kept as the phone
reported them, so an offline round keeps its real pace; the server's receipt time is
stored beside them. A device time more than five minutes ahead of the server is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core import files as stored_files
from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.field import access as field_access
from frontline.inspections import access, anomalies, quality
from frontline.inspections.models import Checkpoint, PointVisit, Reading, Round
from frontline.inspections.readings import CleanReading, clean_photo, clean_readings
from frontline.inspections.states import (
    OPEN_ROUND_STATUSES,
    RoundStatus,
    SkipReason,
    VisitStatus,
    can_move,
)
from frontline.notifications.services import notify

R = RoundStatus
FUTURE_SLACK = dt.timedelta(minutes=5)
PAST_LIMIT = dt.timedelta(days=30)
NOTE_LIMIT = 2000
REASON_LIMIT = 500
DEFAULT_ABANDON_HOURS = 12
# A round may be started this long before its window opens (an early walk is still
# scored as not on time); earlier than that it is some other day's round.
EARLY_START = dt.timedelta(hours=1)


# ---------------------------------------------------------------- checks


def _member(user, team_id) -> bool:
    return team_id is None or user.teams.filter(pk=team_id).exists()


def _takes(actor, r: Round) -> bool:
    """May ``actor`` act on ``r``? True when acting takes the unassigned round; raises
    403 otherwise (409 for an offered round not yet claimed)."""
    if access.is_round_assignee(actor, r):
        return False
    if r.assignee_id is None and access.may_do_rounds(actor) and _member(actor, r.team_id):
        if r.offered:
            raise Conflict(_("This round is on offer: claim it first."), code="claim_first")
        return True
    raise PermissionDenied(_("This round is another engineer's."))


def _closed(r: Round) -> Conflict:
    return Conflict(
        _("This round is %(status)s: nothing more can be recorded on it.")
        % {"status": r.get_status_display()},
        code="round_closed",
        fields={"status": [r.status]},
    )


def _require_open(r: Round) -> None:
    if r.status not in OPEN_ROUND_STATUSES:
        raise _closed(r)


def device_time(value, name: str, now=None) -> dt.datetime | None:
    """A timestamp from the phone: ISO text or datetime; not ahead of the server."""
    if value in (None, ""):
        return None
    now = now or timezone.now()
    parsed = value if isinstance(value, dt.datetime) else None
    if parsed is None and isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationFailed(fields={name: [_("Give a date and time (ISO 8601).")]})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > now + FUTURE_SLACK:
        raise ValidationFailed(
            fields={name: [_("This time is in the future: check the phone's clock.")]}
        )
    if parsed < now - PAST_LIMIT:
        raise ValidationFailed(fields={name: [_("This time is too long ago.")]})
    return parsed


def _client_id(value) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(fields={"client_id": [_("Give a UUID.")]})


def _text(value, name: str, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(fields={name: [_("At most %(n)d characters.") % {"n": limit}]})
    return text


def _replay(actor, round_id: int, client_id) -> PointVisit | None:
    """The visit a retried submission already created; 409 when the id is someone else's
    (without saying whose)."""
    if client_id is None:
        return None
    found = PointVisit.objects.filter(client_id=client_id).first()
    if found is None:
        return None
    if found.round_id != round_id or found.by_id != getattr(actor, "pk", None):
        raise Conflict(
            _("This client id was already used for another visit."),
            code="client_id_used",
            fields={"client_id": [_("Generate a new id for each visit.")]},
        )
    return found


def _on_route(r: Round, checkpoint) -> Checkpoint:
    if (
        not isinstance(checkpoint, Checkpoint)
        or checkpoint.route_id != r.route_id
        or not checkpoint.is_active
    ):
        raise ValidationFailed(
            fields={"checkpoint": [_("This checkpoint is not on the round's route.")]}
        )
    return checkpoint


def _already_there(r: Round, checkpoint: Checkpoint) -> None:
    done = PointVisit.objects.filter(round=r, checkpoint=checkpoint).first()
    if done is not None:
        raise _twice(checkpoint, done)


def _twice(checkpoint: Checkpoint, done: PointVisit) -> Conflict:
    return Conflict(
        _("%(point)s was already %(what)s on this round at %(at)s: one visit per checkpoint.")
        % {
            "point": checkpoint.code,
            "what": done.get_status_display().lower(),
            "at": timezone.localtime(done.recorded_at).strftime("%H:%M"),
        },
        code="already_visited",
        fields={"checkpoint": [_("Already recorded on this round.")]},
    )


def _fresh(round_) -> Round:
    return Round.objects.select_related("route").get(pk=round_.pk)


# ---------------------------------------------------------------- verbs


def claim_round(*, actor, round) -> Round:
    """Claim an offered round: the first claim wins (compare-and-set); later ones are 409."""
    if not access.may_do_rounds(actor):
        raise PermissionDenied()
    current = _fresh(round)
    if not _member(actor, current.team_id):
        raise PermissionDenied(_("This round is offered to another team."))
    with transaction.atomic():
        won = Round.objects.filter(
            pk=current.pk, offered=True, assignee__isnull=True, status=R.SCHEDULED
        ).update(assignee=actor, offered=False)
        if won != 1:
            now = Round.objects.get(pk=current.pk)
            if now.assignee_id == actor.pk and now.status in OPEN_ROUND_STATUSES:
                return _fresh(now)  # a retried claim
            if now.status != R.SCHEDULED:
                raise _closed(now)
            if now.assignee_id is None and not now.offered:
                raise Conflict(_("This round is not on offer."), code="not_offered")
            raise Conflict(_("Someone else already took this round."), code="round_taken")
    return _fresh(current)


def _begin(r: Round, actor, at, takes: bool) -> None:
    """scheduled → in_progress (compare-and-set); the caller holds the round's lock."""
    if at < r.window_start - EARLY_START:
        raise Conflict(
            _("This round's window opens at %(at)s: it cannot be started yet.")
            % {"at": timezone.localtime(r.window_start).strftime("%Y-%m-%d %H:%M")},
            code="too_early",
        )
    changes = {"status": R.IN_PROGRESS, "started_at": at}
    if takes:
        changes["assignee"] = actor
    if not Round.objects.filter(pk=r.pk, status=R.SCHEDULED).update(**changes):
        raise _closed(Round.objects.get(pk=r.pk))
    r.status, r.started_at = R.IN_PROGRESS, at
    if takes:
        r.assignee = actor


def start_round(*, actor, round, at=None) -> Round:
    """scheduled → in_progress at the device's time. Starting twice is a no-op."""
    at = device_time(at, "at") or timezone.now()
    with transaction.atomic():
        r = lock(Round, round.pk)
        takes = _takes(actor, r)
        if r.status == R.IN_PROGRESS:
            return _fresh(r)
        if not can_move(r.status, R.IN_PROGRESS):
            raise _closed(r)
        _begin(r, actor, at, takes)
    return _fresh(r)


def _pre_check(actor, round_) -> Round:
    """Permission and status before the (possibly slow) file checks; repeated under lock."""
    current = _fresh(round_)
    _takes(actor, current)
    _require_open(current)
    return current


def _store_readings(visit: PointVisit, clean: list[CleanReading]) -> None:
    rows = []
    for c in clean:
        row = Reading(visit=visit, item=c.item, number=c.number, answer=c.answer, text=c.text,
                      is_abnormal=c.is_abnormal, photo_pending=c.photo_pending)  # fmt: skip
        if c.photo is not None:
            stored_files.save(row.photo, "photo", c.photo)
        rows.append(row)
    Reading.objects.bulk_create(rows)


def _insert_visit(actor, r: Round, visit: PointVisit, client_id) -> tuple[PointVisit, bool]:
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        replay = _replay(actor, r.pk, client_id)
        if replay is not None:
            return replay, False
        done = PointVisit.objects.filter(round=r, checkpoint=visit.checkpoint).first()
        if done is not None:
            raise _twice(visit.checkpoint, done)
        raise Conflict()
    return visit, True


def record_visit(*, actor, round, checkpoint, readings, client_id=None, started_at=None,
                 recorded_at=None, scanned=False, note="", photos=None,
                 photos_to_follow=None) -> tuple[PointVisit, bool]:  # fmt: skip
    """Record one checkpoint's readings. Abnormal readings raise anomalies (one unhandled
    per checkpoint and item) and the route's rule opens their follow-up. A retry with the
    same ``client_id`` returns the first visit, ``created`` False. ``photos_to_follow``:
    item ids whose photo uploads later (offline sync); see ``attach_pending_photo``."""
    client_id = _client_id(client_id)
    replay = _replay(actor, round.pk, client_id)
    if replay is not None:
        return replay, False
    now = timezone.now()
    started_at = device_time(started_at, "started_at", now)
    recorded_at = device_time(recorded_at, "recorded_at", now) or now
    if started_at is not None and started_at > recorded_at:
        raise ValidationFailed(fields={"started_at": [_("Arrival must come before recording.")]})
    note = _text(note, "note", NOTE_LIMIT)
    current = _pre_check(actor, round)
    cp = _on_route(current, checkpoint)
    items = list(cp.items.filter(is_active=True).order_by("position", "id"))
    clean = clean_readings(items, readings, photos, photos_to_follow)
    with stored_files.atomic():
        r = lock(Round, current.pk)
        replay = _replay(actor, r.pk, client_id)  # a retry that waited for the first's lock
        if replay is not None:
            return replay, False
        takes = _takes(actor, r)
        _require_open(r)
        _already_there(r, cp)
        if r.status == R.SCHEDULED:
            _begin(r, actor, started_at or recorded_at, takes)
        visit = PointVisit(round=r, checkpoint=cp, client_id=client_id, status=VisitStatus.VISITED,
                           note=note, scanned=bool(scanned), started_at=started_at,
                           recorded_at=recorded_at, by=actor)  # fmt: skip
        visit, created = _insert_visit(actor, r, visit, client_id)
        if not created:
            return visit, False
        _store_readings(visit, clean)
        Round.objects.filter(pk=r.pk).update(points_visited=F("points_visited") + 1)
        r.route = current.route
        anomalies.raise_for_visit(actor=actor, round=r, visit=visit, readings=clean)
    return visit, True


def attach_pending_photo(*, actor, round, checkpoint_id: int, item_id: int, file) -> Reading:
    """The photo of a reading recorded offline with ``photos_to_follow``: checked by content,
    stored on that reading, once (compare-and-set on ``photo_pending``). Only the round's
    engineer; a reading that has its photo already is 409 ``photo_already_there``; no such
    pending reading is 400."""
    with stored_files.atomic():
        r = lock(Round, round.pk)
        if r.assignee_id != actor.pk:
            raise PermissionDenied()
        reading = (
            Reading.objects.select_related("item")
            .filter(visit__round=r, visit__checkpoint_id=checkpoint_id, item_id=item_id)
            .first()
        )
        if reading is None:
            raise ValidationFailed(fields={"item": [_("No reading here waits for a photo.")]})
        if not reading.photo_pending:
            raise Conflict(_("This reading has its photo already."), code="photo_already_there")
        content_type = clean_photo(reading.item, file)
        stored_files.save(reading.photo, "photo", file)
        done = Reading.objects.filter(pk=reading.pk, photo_pending=True).update(
            photo=reading.photo.name, photo_pending=False
        )
        if done != 1:
            reading.photo.delete(save=False)
            raise Conflict(_("This reading has its photo already."), code="photo_already_there")
        reading.photo_pending = False
        audit.record(actor=actor, instance=r, action=audit.AuditAction.ACTION, verb="reading_photo",
                     changes={"reading": reading.pk, "content_type": content_type})  # fmt: skip
        _rescore(r)
    return reading


def _rescore(r: Round) -> None:
    """A photo that followed a finished round's data counts now: the computed score is
    refreshed, and the score too unless someone set it by hand."""
    if r.status != R.COMPLETED:
        return
    score, parts = quality.score_round(_fresh(r))
    Round.objects.filter(pk=r.pk, quality_score=F("quality_computed")).update(quality_score=score)
    Round.objects.filter(pk=r.pk).update(quality_computed=score, quality_parts=parts)


def skip_point(*, actor, round, checkpoint, reason, note="", client_id=None,
               recorded_at=None) -> tuple[PointVisit, bool]:  # fmt: skip
    """Skip a checkpoint with a reason ("other" needs a note). Idempotent by ``client_id``."""
    client_id = _client_id(client_id)
    replay = _replay(actor, round.pk, client_id)
    if replay is not None:
        return replay, False
    recorded_at = device_time(recorded_at, "recorded_at") or timezone.now()
    note = _text(note, "note", NOTE_LIMIT)
    if reason not in SkipReason.values:
        raise ValidationFailed(fields={"reason": [_("Say why this checkpoint is skipped.")]})
    if reason == SkipReason.OTHER and not note:
        raise ValidationFailed(fields={"note": [_("Describe the reason.")]})
    current = _pre_check(actor, round)
    cp = _on_route(current, checkpoint)
    with transaction.atomic():
        r = lock(Round, current.pk)
        replay = _replay(actor, r.pk, client_id)  # a retry that waited for the first's lock
        if replay is not None:
            return replay, False
        takes = _takes(actor, r)
        _require_open(r)
        _already_there(r, cp)
        if r.status == R.SCHEDULED:
            _begin(r, actor, recorded_at, takes)
        visit = PointVisit(round=r, checkpoint=cp, client_id=client_id, status=VisitStatus.SKIPPED,
                           skip_reason=reason, note=note, recorded_at=recorded_at, by=actor)  # fmt: skip
        visit, created = _insert_visit(actor, r, visit, client_id)
        if created:
            Round.objects.filter(pk=r.pk).update(points_skipped=F("points_skipped") + 1)
    return visit, created


def finish_round(*, actor, round, at=None) -> Round:
    """in_progress → completed at the device's time; scores the round's quality."""
    at = device_time(at, "at") or timezone.now()
    with transaction.atomic():
        r = lock(Round, round.pk)
        _takes(actor, r)
        if r.status != R.IN_PROGRESS:
            if r.status == R.SCHEDULED:
                raise Conflict(_("Start the round first."), code="not_started",
                               fields={"status": [r.status]})  # fmt: skip
            raise _closed(r)
        finished = max(at, r.started_at) if r.started_at else at
        if not Round.objects.filter(pk=r.pk, status=R.IN_PROGRESS).update(
            status=R.COMPLETED, finished_at=finished
        ):
            raise _closed(Round.objects.get(pk=r.pk))
        r = _fresh(r)
        score, parts = quality.score_round(r)
        Round.objects.filter(pk=r.pk).update(
            quality_computed=score, quality_score=score, quality_parts=parts
        )
    return _fresh(r)


def cancel_round(*, actor, round, reason) -> Round:
    """Cancel a round that has not been done (route managers, dispatchers), with a reason."""
    if not (access.may_manage_routes(actor) or field_access.may_dispatch(actor)):
        raise PermissionDenied()
    reason = _text(reason, "reason", REASON_LIMIT)
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the round is cancelled.")]})
    with transaction.atomic():
        r = lock(Round, round.pk)
        if not can_move(r.status, R.CANCELLED):
            raise _closed(r)
        old = r.status
        Round.objects.filter(pk=r.pk, status=old).update(status=R.CANCELLED, offered=False)
        audit.record(actor=actor, instance=r, action=audit.AuditAction.ACTION, verb="cancel",
                     changes={"status": [old, R.CANCELLED], "reason": [None, reason]})  # fmt: skip
        if r.assignee_id and r.assignee_id != actor.pk:
            notify(recipients=[r.assignee], kind="round_cancelled",
                   title=_("Round cancelled: %(round)s") % {"round": str(r)}, body=reason,
                   url="", dedupe_key=f"round-cancelled:{r.pk}")  # fmt: skip
    return _fresh(r)


def close_overdue_rounds(*, now=None) -> int:
    """Beat job: scheduled rounds whose window has closed are missed; rounds started but
    not finished ``INSPECTIONS_ABANDON_AFTER_HOURS`` after their window are missed too
    (their visits stay). Set-based and idempotent; returns how many rounds it closed."""
    now = now or timezone.now()
    hours = getattr(settings, "INSPECTIONS_ABANDON_AFTER_HOURS", DEFAULT_ABANDON_HOURS)
    with transaction.atomic():
        missed = Round.objects.filter(status=R.SCHEDULED, window_end__lte=now).update(
            status=R.MISSED, offered=False
        )
        abandoned = Round.objects.filter(
            status=R.IN_PROGRESS, window_end__lte=now - dt.timedelta(hours=hours)
        ).update(status=R.MISSED)
    return missed + abandoned
