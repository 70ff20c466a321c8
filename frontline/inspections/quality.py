"""A round's quality score, 0–100, from five weighted parts (the route's quality scheme,
or the scheme defaults).

Each part is 0–1:
- ``coverage``: checkpoints visited ÷ checkpoints planned (1 when none were planned).
- ``timeliness``: started within the window (no earlier than ``START_TOLERANCE`` before
  it opens, before it closes) and finished by its close: 1 for both, 0.5 for one, 0 for
  neither.
- ``anomalies``: abnormal readings (of items that raise anomalies) that raised or added
  to an anomaly from this round — and, when the route's rule opens a follow-up, whose
  anomaly got one or was already dealt with — ÷ those readings (1 when there were none).
- ``pace``: the share of consecutive visits (by device ``recorded_at``) at least
  ``min_seconds_per_point`` apart; 1 for a single visit, 0 for none. Points recorded
  seconds apart suggest the round was not walked.
- ``photos``: readings of photo-required items that carry a photo ÷ such readings
  (1 when none).
Score = 100 × Σ(weight × part) ÷ Σ weights, rounded to 2 places.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.inspections import access
from frontline.inspections.models import Anomaly, PointVisit, QualityScheme, Reading, Round
from frontline.inspections.states import (
    AnomalyAction,
    AnomalyStatus,
    ItemKind,
    RoundStatus,
    VisitStatus,
)

START_TOLERANCE = dt.timedelta(minutes=5)
REASON_LIMIT = 1000
_CENT = Decimal("0.01")


def scheme_for(route) -> QualityScheme:
    """The route's scheme, else an unsaved one with the defaults."""
    if route.quality_scheme_id:
        return route.quality_scheme
    return QualityScheme(name="default")


def _ratio(num: int, den: int, empty: float = 1.0) -> float:
    return empty if den == 0 else min(1.0, num / den)


def coverage_part(r: Round) -> tuple[float, dict]:
    return _ratio(r.points_visited, r.points_planned), {
        "visited": r.points_visited,
        "planned": r.points_planned,
        "skipped": r.points_skipped,
    }


def timeliness_part(r: Round) -> tuple[float, dict]:
    started = r.started_at is not None and (
        r.window_start - START_TOLERANCE <= r.started_at <= r.window_end
    )
    finished = r.finished_at is not None and r.finished_at <= r.window_end
    return (int(started) + int(finished)) / 2, {
        "started_on_time": started,
        "finished_on_time": finished,
    }


@dataclass(frozen=True)
class RoundFacts:
    """What the anomalies, pace and photos parts are computed from. ``facts_for`` reads
    them from the database; a bulk writer (the demo history) passes them in memory so the
    same rules score rows it has not read back."""

    visit_times: tuple = ()  # device recorded_at of the visited checkpoints
    abnormal: int = 0  # abnormal readings of items that raise anomalies
    reported: int = 0  # of those, raised (and followed up when the route's rule says so)
    photos_required: int = 0  # readings of photo-required items
    photos_with: int = 0  # of those, with a photo


def _reported(r: Round) -> tuple[int, int]:
    abnormal = list(
        Reading.objects.filter(
            visit__round=r, is_abnormal=True, item__anomaly_when_abnormal=True
        ).values_list("visit_id", "item_id")
    )
    if not abnormal:
        return 0, 0
    needs_follow_up = r.route.anomaly_action != AnomalyAction.NONE
    found = Anomaly.objects.filter(Q(round=r) | Q(visit__round=r), item__isnull=False).values_list(
        "visit_id", "item_id", "status", "work_order_id", "ticket_id"
    )
    ok = set()
    for visit_id, item_id, status, wo, ticket in found:
        followed = not needs_follow_up or wo or ticket or status != AnomalyStatus.OPEN
        if followed:
            ok.add((visit_id, item_id))
    return len(abnormal), sum(1 for pair in abnormal if pair in ok)


def _photos(r: Round) -> tuple[int, int]:
    rows = Reading.objects.filter(visit__round=r).filter(
        Q(item__photo_required=True) | Q(item__kind=ItemKind.PHOTO)
    )
    needed = rows.count()
    return needed, (rows.exclude(photo="").count() if needed else 0)


def facts_for(r: Round) -> RoundFacts:
    times = tuple(
        PointVisit.objects.filter(round=r, status=VisitStatus.VISITED)
        .order_by("recorded_at", "id")
        .values_list("recorded_at", flat=True)
    )
    abnormal, reported = _reported(r)
    required, with_photo = _photos(r)
    return RoundFacts(times, abnormal, reported, required, with_photo)


def anomalies_part(r: Round, facts: RoundFacts | None = None) -> tuple[float, dict]:
    abnormal, reported = (facts.abnormal, facts.reported) if facts is not None else _reported(r)
    if not abnormal:
        return 1.0, {"abnormal": 0, "reported": 0}
    return _ratio(reported, abnormal), {"abnormal": abnormal, "reported": reported}


def pace_part(r: Round, min_seconds: int, facts: RoundFacts | None = None) -> tuple[float, dict]:
    times = sorted(facts.visit_times) if facts is not None else facts_for(r).visit_times
    if len(times) < 2:
        return float(len(times)), {"visits": len(times), "gaps": 0, "plausible": 0}
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    plausible = sum(1 for g in gaps if g >= min_seconds)
    return plausible / len(gaps), {
        "visits": len(times),
        "gaps": len(gaps),
        "plausible": plausible,
        "min_seconds": min_seconds,
    }


def photos_part(r: Round, facts: RoundFacts | None = None) -> tuple[float, dict]:
    needed, with_photo = (
        (facts.photos_required, facts.photos_with) if facts is not None else _photos(r)
    )
    return _ratio(with_photo, needed), {"required": needed, "with_photo": with_photo}


def score_round(round, facts: RoundFacts | None = None) -> tuple[Decimal, dict]:
    """(score 0–100, parts) for a round; parts map each part to its score, weight and detail.
    Without ``facts`` they are read from the database."""
    scheme = scheme_for(round.route)
    facts = facts if facts is not None else facts_for(round)
    parts = {
        "coverage": (coverage_part(round), scheme.coverage_weight),
        "timeliness": (timeliness_part(round), scheme.timeliness_weight),
        "anomalies": (anomalies_part(round, facts), scheme.anomalies_weight),
        "pace": (pace_part(round, scheme.min_seconds_per_point, facts), scheme.pace_weight),
        "photos": (photos_part(round, facts), scheme.photos_weight),
    }
    total_weight = sum(w for _p, w in parts.values())
    weighted = sum(Decimal(str(round_part)) * w for (round_part, _d), w in parts.values())
    score = Decimal("0") if total_weight == 0 else Decimal(100) * weighted / total_weight
    out = {
        name: {"score": float(f"{part:.4f}"), "weight": w, "detail": detail}
        for name, ((part, detail), w) in parts.items()
    }
    return score.quantize(_CENT, rounding=ROUND_HALF_UP), out


def _score_value(value) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except Exception:  # noqa: BLE001 - any unparsable input is the same 400
        score = None
    if isinstance(value, bool) or score is None or not score.is_finite() or not 0 <= score <= 100:
        raise ValidationFailed(fields={"score": [_("Give a score from 0 to 100.")]})
    return score.quantize(_CENT, rounding=ROUND_HALF_UP)


def adjust_score(*, actor, round, score, reason) -> Round:
    """A quality reviewer sets a completed round's score with a reason (audited); the
    computed score is kept beside it."""
    if not access.may_review_quality(actor):
        raise PermissionDenied()
    score = _score_value(score)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the score changes.")]})
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed(
            fields={"reason": [_("At most %(n)d characters.") % {"n": REASON_LIMIT}]}
        )
    with transaction.atomic():
        r = lock(Round, round.pk)
        if r.status != RoundStatus.COMPLETED:
            raise Conflict(_("Only a completed round has a score."), code="not_completed",
                           fields={"status": [r.status]})  # fmt: skip
        old = r.quality_score
        Round.objects.filter(pk=r.pk).update(
            quality_score=score,
            quality_adjusted_by=actor,
            quality_adjusted_at=timezone.now(),
            quality_adjust_reason=reason,
        )
        audit.record(actor=actor, instance=r, action=audit.AuditAction.ACTION, verb="adjust_score",
                     changes={"quality_score": [str(old) if old is not None else None, str(score)],
                              "reason": [None, reason]})  # fmt: skip
    return Round.objects.get(pk=r.pk)
