"""Demo incentives: a realistic rule book, paid over whatever history the other demo
modules wrote, and a few redemptions in each state.

Called by ``frontline.demo.loader`` after the inspections history. Rules and decisions
go through the incentive services (audited, as a manager would make them); the award
scanner then pays every event since the start of the history, once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from frontline.accounts.models import User
from frontline.accounts.roles import Role
from frontline.incentives import redemptions, services
from frontline.incentives.awarding import award_points
from frontline.incentives.models import PointRule, Redemption, Wallet
from frontline.incentives.states import RuleEvent

RULES = [
    # name, event, threshold, points, coins, description
    ("完成巡检", RuleEvent.ROUND_COMPLETED, None, 10, "2", "每完成一次巡检。"),
    ("巡检质量≥90", RuleEvent.ROUND_QUALITY, "90", 5, "1", "质量分达到 90 分及以上。"),
    ("发现异常并确认", RuleEvent.ANOMALY_CONFIRMED, None, 8, "2", "巡检中发现的异常经确认。"),
    ("一次修复", RuleEvent.FIRST_TIME_FIX, None, 15, "3", "工单关闭且无返修。"),
    ("五星好评", RuleEvent.CSAT, "5", 10, "2", "客户满意度 5 分。"),
    ("SLA 达标", RuleEvent.SLA_MET, None, 3, "0.5", "工单在 SLA 内解决，未违约。"),
    ("漏检", RuleEvent.ROUND_MISSED, None, -20, "-2", "巡检窗口结束仍未完成。"),
]
COIN_RATE = Decimal("0.50")  # 1 coin = 0.50 CNY
HISTORY_DAYS = 400


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _manager() -> User | None:
    return (
        User.objects.filter(membership__role=Role.MANAGER, is_active=True).order_by("pk").first()
        or User.objects.filter(membership__role=Role.ADMIN, is_active=True).order_by("pk").first()
    )


def _rules(manager: User) -> int:
    made = 0
    for name, event, threshold, points, coins, description in RULES:
        if PointRule.objects.filter(name=name).exists():
            continue
        services.create_rule(
            actor=manager, name=name, event=event, points=points, coins=Decimal(coins),
            threshold=Decimal(threshold) if threshold else None, description=description,
        )  # fmt: skip
        made += 1
    return made


def _redemptions(manager: User) -> int:
    """The richest engineers ask for some of their coins: approved, paid, rejected, waiting."""
    if Redemption.objects.exists():
        return 0
    richest = list(
        Wallet.objects.filter(coins_balance__gte=10, user__membership__role=Role.ENGINEER)
        .select_related("user")
        .order_by("-coins_balance", "user_id")[:6]
    )
    made = 0
    for i, wallet in enumerate(richest):
        coins = (wallet.coins_balance * Decimal("0.4")).quantize(Decimal("1"))
        r = redemptions.request_redemption(actor=wallet.user, coins=coins, note="月度兑换")
        made += 1
        if i in (0, 1, 2):
            r = redemptions.approve_redemption(actor=manager, redemption=r)
        if i == 0:
            redemptions.mark_paid(actor=manager, redemption=r)
        if i == 3:
            redemptions.reject_redemption(
                actor=manager, redemption=r, reason="请在月底统一申请兑换。"
            )
    return made


def load(*, stdout=None, now=None) -> dict[str, int]:
    """Rules, the coin rate, every payment the history earns, and a few redemptions."""
    manager = _manager()
    if manager is None:
        _say(stdout, "incentives: no manager, skipped\n")
        return {"rules": 0, "entries": 0, "redemptions": 0}
    now = now or timezone.now()
    rules = _rules(manager)
    services.update_settings(actor=manager, coin_rate=COIN_RATE, currency="CNY")
    entries = award_points(now=now, since=now - dt.timedelta(days=HISTORY_DAYS))
    made = _redemptions(manager)
    _say(stdout, f"incentives: {rules} rules, {entries} ledger entries, {made} redemptions\n")
    return {"rules": rules, "entries": entries, "redemptions": made}
