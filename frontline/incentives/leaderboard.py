"""Monthly rankings and the dates they are counted in.

Months are local (Asia/Shanghai) calendar months of the entries' ``occurred_at`` (when
the source event happened): a round finished at 07:30 on the 1st, local time, counts
in that month although UTC still says the last day of the month before.
Redemptions spend coins and earn nothing: they are left out of the ranking. A ranking
per team or project groups by the team and project copied onto each entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import ValidationFailed
from frontline.incentives import access
from frontline.incentives.models import LedgerEntry
from frontline.incentives.states import EARNING_KINDS, EntryKind, RuleEvent

MAX_LIMIT = 200


@dataclass(frozen=True)
class Row:
    rank: int
    user_id: int
    name: str
    points: int
    coins: Decimal
    rounds_completed: int


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def parse_month(text: str | None) -> dt.date:
    """``YYYY-MM`` (empty: the current month) → the month's first day; else 400."""
    if not text:
        return this_month()
    try:
        month = dt.datetime.strptime(str(text)[:7], "%Y-%m").date()
    except ValueError:
        raise ValidationFailed(fields={"month": [_("Give the month as YYYY-MM.")]}) from None
    if len(str(text)) != 7 or not 2000 <= month.year <= 2100:
        raise ValidationFailed(fields={"month": [_("Give the month as YYYY-MM.")]})
    return month


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's first instant and the next month's, in the local time zone."""
    start = month.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_default_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(following, dt.time.min), tz),
    )


def in_month(qs, month: dt.date):
    start, end = month_bounds(month)
    return qs.filter(occurred_at__gte=start, occurred_at__lt=end)


def ranking(*, viewer, month: dt.date, team=None, project=None, limit: int = 50) -> list[Row]:
    """The month's top ``limit`` by points (then coins, then name), in one query.

    Operator staff see everyone; a partner outlet's people see their own outlet's.
    Ties share a rank (1, 2, 2, 4).
    """
    access.require(access.takes_part(viewer))
    qs = in_month(LedgerEntry.objects.filter(kind__in=EARNING_KINDS), month)
    if team is not None:
        qs = qs.filter(team_id=getattr(team, "pk", team))
    if project is not None:
        qs = qs.filter(project_id=getattr(project, "pk", project))
    if not viewer.is_operator_staff:
        qs = qs.filter(user__membership__organization_id=access.partner_of(viewer) or -1)
    rows = (
        qs.order_by()
        .values("user_id", "user__display_name")
        .annotate(
            total_points=Sum("points"),
            total_coins=Sum("coins"),
            rounds=Count("pk", filter=Q(event=RuleEvent.ROUND_COMPLETED, kind=EntryKind.AWARD)),
        )
        .order_by("-total_points", "-total_coins", "user__display_name", "user_id")[
            : max(1, min(limit, MAX_LIMIT))
        ]
    )
    out: list[Row] = []
    for i, r in enumerate(rows):
        rank = out[-1].rank if out and out[-1].points == r["total_points"] else i + 1
        out.append(
            Row(
                rank=rank,
                user_id=r["user_id"],
                name=r["user__display_name"],
                points=r["total_points"] or 0,
                coins=r["total_coins"] or Decimal("0.00"),
                rounds_completed=r["rounds"],
            )
        )
    return out
