"""Monthly ranking: local months, team and project groupings, ties, partners, queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.incentives import leaderboard
from frontline.incentives.models import LedgerEntry
from frontline.incentives.states import EntryKind, RuleEvent, SourceType
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
SH = timezone.get_default_timezone()
_seq = iter(range(1, 10_000))


def entry(user, points, *, at, coins="0", team=None, project=None, kind=EntryKind.AWARD,
          event=RuleEvent.ROUND_COMPLETED):  # fmt: skip
    return LedgerEntry.objects.create(
        user=user, kind=kind, event=event, source_type=SourceType.ROUND, source_id=next(_seq),
        points=points, coins=Decimal(coins), occurred_at=at, team=team, project=project,
    )  # fmt: skip


def local(y, m, d, hh=12, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def test_ranks_by_points_with_ties_and_counts_rounds(cast):
    # given three engineers' November
    entry(cast.engineer, 10, at=local(2026, 11, 3))
    entry(cast.engineer, 5, at=local(2026, 11, 4), event=RuleEvent.ROUND_QUALITY)
    entry(cast.dispatcher, 15, at=local(2026, 11, 5), coins="3")
    entry(cast.agent, 8, at=local(2026, 11, 5))
    entry(cast.agent, 50, at=local(2026, 11, 5), kind=EntryKind.REDEMPTION)
    # when ranked
    rows = leaderboard.ranking(viewer=cast.manager, month=dt.date(2026, 11, 1))
    # then ties share a rank, coins break the order, redemptions do not count
    assert [(r.rank, r.name, r.points, r.rounds_completed) for r in rows] == [
        (1, "调度员", 15, 1),
        (1, "工程师", 15, 1),
        (3, "客服", 8, 1),
    ]


def test_months_are_local_shanghai_months(cast):
    # 07:30 on 1 December in Shanghai is still 30 November in UTC
    entry(cast.engineer, 10, at=local(2026, 12, 1, 7, 30))
    entry(cast.engineer, 3, at=local(2026, 11, 30, 23, 59))
    nov = leaderboard.ranking(viewer=cast.manager, month=dt.date(2026, 11, 1))
    dec = leaderboard.ranking(viewer=cast.manager, month=dt.date(2026, 12, 1))
    assert [r.points for r in nov] == [3]
    assert [r.points for r in dec] == [10]


def test_ranking_within_a_team_or_a_project_uses_the_entry_snapshot(cast):
    team = f.TeamFactory()
    project = f.ProjectFactory()
    entry(cast.engineer, 10, at=local(2026, 11, 3), team=team)
    entry(cast.engineer, 7, at=local(2026, 11, 3), project=project)
    entry(cast.dispatcher, 20, at=local(2026, 11, 3))
    month = dt.date(2026, 11, 1)
    by_team = leaderboard.ranking(viewer=cast.manager, month=month, team=team)
    by_project = leaderboard.ranking(viewer=cast.manager, month=month, project=project)
    assert [(r.name, r.points) for r in by_team] == [("工程师", 10)]
    assert [(r.name, r.points) for r in by_project] == [("工程师", 7)]


def test_partner_people_see_only_their_outlet(cast):
    entry(cast.engineer, 10, at=local(2026, 11, 3))
    entry(cast.partner_engineer, 4, at=local(2026, 11, 3))
    rows = leaderboard.ranking(viewer=cast.partner_engineer, month=dt.date(2026, 11, 1))
    assert [r.user_id for r in rows] == [cast.partner_engineer.pk]


def test_customers_have_no_leaderboard(cast):
    with pytest.raises(PermissionDenied):
        leaderboard.ranking(viewer=cast.customer_a_admin, month=dt.date(2026, 11, 1))


@pytest.mark.parametrize("text", ["2026-13", "2026/11", "abc", "1999-01", "2026-11-01"])
def test_bad_months_are_400(text):
    with pytest.raises(ValidationFailed):
        leaderboard.parse_month(text)


def test_one_query_whatever_the_number_of_engineers(cast, django_assert_num_queries):
    for i in range(15):
        user = f.member("engineer", cast.operator, email=f"e{i}@t.example")
        entry(user, i, at=local(2026, 11, 3))
    with django_assert_num_queries(1):
        rows = leaderboard.ranking(viewer=cast.manager, month=dt.date(2026, 11, 1), limit=10)
    assert len(rows) == 10 and rows[0].points == 14
