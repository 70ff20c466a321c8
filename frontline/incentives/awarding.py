"""The award scanner: turns source events into ledger entries, idempotently.

Incentives sits above inspections, field and desk, so nothing there calls us; instead
``award_points`` (a beat job every 5 minutes) reads each active rule's events of a
recent window (``INCENTIVES_AWARD_LOOKBACK_DAYS``, default 7) and writes one entry per
rule and source event. The unique key ``(rule, source_type, source_id, revision)`` makes
a second run, or two runs at once, write nothing new: rows already paid are left out
by the query, and a row a concurrent run wrote first is skipped by the insert
(``ON CONFLICT DO NOTHING`` / ``INSERT OR IGNORE``). Wallets are then rewritten from the
ledger under their row locks.

Quality adjustments: a round's ``quality_score`` may be changed by an analyst after it
was paid. The paid entry is never edited; instead each run looks at rounds adjusted in
the window and writes a correction entry (the next revision of the same key): the
reversal of what was paid when the new score is below the threshold, or the original
amounts again when a later adjustment lifts it back. The correction counts in the month
of the adjustment. A rule changed after paying keeps its old entries as they are.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from frontline.accounts.models import Team
from frontline.incentives import corrections, sources, wallets
from frontline.incentives.models import LedgerEntry, PointRule
from frontline.incentives.states import EVENT_SOURCE, EntryKind, SourceType, threshold_of

BATCH = 1000


def lookback_days() -> int:
    return int(getattr(settings, "INCENTIVES_AWARD_LOOKBACK_DAYS", 7))


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _period(rule: PointRule, since, until):
    if rule.valid_from:
        since = max(since, _local_midnight(rule.valid_from))
    if rule.valid_until:
        until = min(until, _local_midnight(rule.valid_until + dt.timedelta(days=1)))
    return since, until


def candidates(rule: PointRule, since, until):
    """Rows of the rule's source events in the window that it has not paid yet."""
    since, until = _period(rule, since, until)
    if since >= until:
        return []
    rows = sources.SOURCES[rule.event](since, until)
    if rule.project_id:
        rows = rows.filter(x_project=rule.project_id)
    threshold = threshold_of(rule)
    if threshold is not None:
        rows = rows.filter(x_value__gte=threshold)
    paid = LedgerEntry.objects.filter(
        rule_id=rule.pk,
        source_type=EVENT_SOURCE[rule.event],
        source_id=OuterRef("x_source"),
        revision=0,
    )
    return list(rows.filter(~Exists(paid)))


def home_teams(user_ids) -> dict[int, int]:
    """Each user's first active team: the snapshot for events that name no team."""
    through = Team.members.through
    rows = (
        through.objects.filter(user_id__in=set(user_ids), team__is_active=True)
        .values("user_id")
        .annotate(team=Min("team_id"))
        .values_list("user_id", "team")
    )
    return dict(rows)


def _reason(rule: PointRule, source_type: str, source_id: int) -> str:
    return f"{rule.name} · {SourceType(source_type).label} #{source_id}"[:300]


def _entries(rule: PointRule, rows, teams: dict[int, int], now) -> list[LedgerEntry]:
    source_type = EVENT_SOURCE[rule.event]
    kind = EntryKind.PENALTY if rule.points < 0 or rule.coins < 0 else EntryKind.AWARD
    out = []
    for row in rows:
        team = row["x_team"] or teams.get(row["x_user"])
        if rule.team_id and team != rule.team_id:
            continue
        out.append(
            LedgerEntry(
                user_id=row["x_user"],
                rule_id=rule.pk,
                event=rule.event,
                kind=kind,
                source_type=source_type,
                source_id=row["x_source"],
                revision=0,
                points=rule.points,
                coins=rule.coins,
                occurred_at=row["x_at"],
                created_at=now,
                team_id=team,
                project_id=row["x_project"],
                reason=_reason(rule, source_type, row["x_source"]),
            )  # fmt: skip
        )
    return out


def award_points(*, now=None, since=None) -> int:
    """Pay every active rule's new source events since ``since`` (default: the lookback
    window before ``now``). Idempotent; returns the number of entries written."""
    now = now or timezone.now()
    since = since or now - dt.timedelta(days=lookback_days())
    rules = list(PointRule.objects.active().order_by("pk"))
    pending: list[tuple[PointRule, list]] = [(r, candidates(r, since, now)) for r in rules]
    teams = home_teams({row["x_user"] for _r, rows in pending for row in rows})
    entries = [e for rule, rows in pending for e in _entries(rule, rows, teams, now)]
    # One order for every run, so two runs at once wait on each other instead of deadlocking.
    entries.sort(key=lambda e: (e.rule_id, e.source_id))
    written = len(entries)
    with transaction.atomic():
        LedgerEntry.objects.bulk_create(entries, ignore_conflicts=True, batch_size=BATCH)
        fixes = [e for rule in rules for e in corrections.for_rule(rule, since, now)]
        LedgerEntry.objects.bulk_create(fixes, ignore_conflicts=True, batch_size=BATCH)
        wallets.refresh({e.user_id for e in entries} | {e.user_id for e in fixes})
    return written + len(fixes)
