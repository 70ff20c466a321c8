"""Coins for cash: request, approve, reject, mark paid, export for payroll.

A request reserves nothing in the ledger, but the coins it asks for are held: a new
request may ask for at most the balance less what other requests still wait for. The
check runs under the wallet's row lock, so concurrent requests cannot overdraw.
Approval writes the negative coins entry (once: the redemption's own source key is
unique, and a second approval finds the status moved on and is a 409).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.locks import lock
from frontline.desk.exports import Sheet, xlsx_bytes
from frontline.incentives import access, wallets
from frontline.incentives.models import IncentiveSettings, LedgerEntry, Redemption
from frontline.incentives.states import (
    EntryKind,
    RedemptionStatus,
    SourceType,
    redemption_can_move,
)

CENT = Decimal("0.01")
MAX_COINS = Decimal("1000000")


def pending_coins(user) -> Decimal:
    total = Redemption.objects.filter(user_id=user.pk, status=RedemptionStatus.REQUESTED).aggregate(
        t=Sum("coins")
    )["t"]
    return total or Decimal("0.00")


def _coins(value) -> Decimal:
    try:
        coins = Decimal(str(value))
    except (InvalidOperation, ValueError):
        coins = None
    if coins is None or not coins.is_finite() or coins <= 0 or coins > MAX_COINS:
        raise ValidationFailed(fields={"coins": [_("Give a positive number of coins.")]})
    if coins != coins.quantize(CENT):
        raise ValidationFailed(fields={"coins": [_("Coins go to the cent at most.")]})
    return coins


def request_redemption(*, actor, coins, note: str = "") -> Redemption:
    """Ask to turn some of one's own coins into cash at today's rate."""
    access.require(access.takes_part(actor))
    coins = _coins(coins)
    note = (note or "").strip()[:300]
    with transaction.atomic():
        wallet = wallets.lock_wallet(actor)
        available = wallet.coins_balance - pending_coins(actor)
        if coins > available:
            raise ValidationFailed(
                _("You can redeem at most %(n)s coins.") % {"n": max(available, Decimal(0))},
                code="insufficient_coins",
                fields={"coins": [_("More than your available coins.")]},
            )
        settings = IncentiveSettings.current()
        cash = (coins * settings.coin_rate).quantize(CENT, rounding=ROUND_HALF_UP)
        redemption = Redemption.objects.create(
            user=actor, coins=coins, rate=settings.coin_rate, cash_amount=cash,
            currency=settings.currency, note=note,
        )  # fmt: skip
        audit.record(
            actor=actor,
            instance=redemption,
            action=audit.AuditAction.CREATE,
            changes=audit.snapshot(redemption, ["coins", "rate", "cash_amount", "currency"]),
        )
    return redemption


def _move(redemption: Redemption, new: str, **changes) -> Redemption:
    """Compare-and-set under the row lock: a second decision finds the status moved on."""
    current = lock(Redemption, redemption.pk)
    if not redemption_can_move(current.status, new):
        raise Conflict(
            _("This redemption is already %(status)s.") % {"status": current.get_status_display()},
            code="redemption_decided",
            fields={"status": [current.status]},
        )
    diff = audit.apply_changes(current, {"status": new, **changes})
    current.save()
    return current, diff


def approve_redemption(*, actor, redemption: Redemption) -> Redemption:
    """Approve: the coins leave the wallet (a negative redemption entry)."""
    access.require(access.may_approve(actor))
    with transaction.atomic():
        now = timezone.now()
        current, diff = _move(
            redemption, RedemptionStatus.APPROVED, decided_by=actor, decided_at=now
        )
        wallet = wallets.lock_wallet(current.user)
        if wallet.coins_balance < current.coins:
            raise Conflict(
                _("The engineer no longer has enough coins (%(n)s).") % {"n": wallet.coins_balance},
                code="insufficient_coins",
            )
        LedgerEntry.objects.create(
            user_id=current.user_id, kind=EntryKind.REDEMPTION,
            source_type=SourceType.REDEMPTION, source_id=current.pk, points=0,
            coins=-current.coins, occurred_at=now, created_by=actor,
            reason=gettext("Redeemed for %(cash)s %(currency)s")
            % {"cash": current.cash_amount, "currency": current.currency},
        )  # fmt: skip
        wallets.refresh([current.user_id])
        audit.record(
            actor=actor, instance=current, action=audit.AuditAction.ACTION, verb="approve",
            changes=diff,
        )  # fmt: skip
    return current


def reject_redemption(*, actor, redemption: Redemption, reason: str) -> Redemption:
    """Refuse with a reason; the held coins are free again."""
    access.require(access.may_approve(actor))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the request is rejected.")]})
    with transaction.atomic():
        current, diff = _move(
            redemption, RedemptionStatus.REJECTED, decided_by=actor,
            decided_at=timezone.now(), reason=reason[:300],
        )  # fmt: skip
        audit.record(
            actor=actor, instance=current, action=audit.AuditAction.ACTION, verb="reject",
            changes=diff,
        )  # fmt: skip
    return current


def mark_paid(*, actor, redemption: Redemption) -> Redemption:
    """Payroll has paid the cash."""
    access.require(access.may_approve(actor))
    with transaction.atomic():
        current, diff = _move(redemption, RedemptionStatus.PAID, paid_at=timezone.now())
        audit.record(
            actor=actor, instance=current, action=audit.AuditAction.ACTION, verb="paid",
            changes=diff,
        )  # fmt: skip
    return current


PAYROLL_STATUSES = (RedemptionStatus.APPROVED, RedemptionStatus.PAID)


def payroll_workbook(*, actor, redemptions, mark_exported: bool = True) -> bytes:
    """An .xlsx of approved (and paid) redemptions for payroll; marks them exported.

    ``redemptions`` is a queryset the caller has already scoped and filtered; requests
    not yet approved or rejected ones are left out. Every cell goes through the desk's
    neutralising writer, so a name like ``=HYPERLINK(…)`` stays text.
    """
    access.require(access.may_approve(actor))
    rows = list(
        redemptions.filter(status__in=PAYROLL_STATUSES)
        .select_related("user", "decided_by")
        .order_by("user__display_name", "decided_at", "pk")
    )
    sheet = Sheet(
        gettext("Redemptions"),
        [
            gettext("Engineer"), gettext("Email"), gettext("Coins"), gettext("Cash per coin"),
            gettext("Cash"), gettext("Currency"), gettext("Status"), gettext("Requested"),
            gettext("Approved by"), gettext("Approved"), gettext("Paid"), gettext("Note"),
        ],
    )  # fmt: skip
    for r in rows:
        sheet.add([
            r.user.display_name, r.user.email, r.coins, r.rate, r.cash_amount, r.currency,
            r.get_status_display(), r.requested_at,
            r.decided_by.display_name if r.decided_by else "", r.decided_at, r.paid_at, r.note,
        ])  # fmt: skip
    data = xlsx_bytes([sheet])
    if mark_exported and rows:
        with transaction.atomic():
            ids = [r.pk for r in rows if r.exported_at is None]
            Redemption.objects.filter(pk__in=ids, exported_at__isnull=True).update(
                exported_at=timezone.now()
            )
            for r in rows:
                if r.pk in ids:
                    audit.record(
                        actor=actor, instance=r, action=audit.AuditAction.ACTION,
                        verb="export", changes={"exported_at": [None, "now"]},
                    )  # fmt: skip
    return data
