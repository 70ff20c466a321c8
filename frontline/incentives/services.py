"""Verbs on point rules and incentive settings (``Cap.MANAGE_POINT_RULES``), and a
manager's manual correction of the ledger. Pages and API change rules only here: each
checks the capability, validates the whole rule, saves, and writes one audit entry.

Changing a rule changes what it pays from then on; entries already written keep the
amounts they were written with (the ledger is append-only).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.locks import lock
from frontline.incentives import access, wallets
from frontline.incentives.models import IncentiveSettings, LedgerEntry, PointRule
from frontline.incentives.states import (
    PENALTY_EVENTS,
    THRESHOLD_EVENTS,
    EntryKind,
    RuleEvent,
)

RULE_FIELDS = (
    "name",
    "event",
    "threshold",
    "points",
    "coins",
    "project",
    "team",
    "is_active",
    "valid_from",
    "valid_until",
    "description",
)
MAX_POINTS = 100_000
MAX_COINS = Decimal("100000")
CENT = Decimal("0.01")

Errors = dict[str, list[str]]


def _add(errors: Errors, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def _decimal(value, name: str, errors: Errors) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        _add(errors, name, _("Enter a number."))
        return None
    if not number.is_finite():
        _add(errors, name, _("Enter a number."))
        return None
    return number


def _check_amounts(rule: PointRule, errors: Errors) -> None:
    if not isinstance(rule.points, int) or abs(rule.points) > MAX_POINTS:
        _add(errors, "points", _("Points must be a whole number within ±100,000."))
    coins = _decimal(rule.coins, "coins", errors)
    if coins is not None:
        if abs(coins) > MAX_COINS or coins != coins.quantize(CENT):
            _add(errors, "coins", _("Coins must be within ±100,000, to the cent."))
        rule.coins = coins
    if errors.get("points") or errors.get("coins"):
        return
    if rule.points == 0 and not rule.coins:
        _add(errors, "points", _("A rule must give or take points or coins."))
    elif rule.event in PENALTY_EVENTS and (rule.points > 0 or rule.coins > 0):
        _add(errors, "points", _("A penalty takes points and coins away: use negative amounts."))
    elif rule.event not in PENALTY_EVENTS and (rule.points < 0 or rule.coins < 0):
        _add(errors, "points", _("This event earns: use positive amounts."))


def _check_threshold(rule: PointRule, errors: Errors) -> None:
    value = _decimal(rule.threshold, "threshold", errors)
    rule.threshold = value
    if errors.get("threshold"):
        return
    if rule.event == RuleEvent.ROUND_QUALITY:
        if value is None or not Decimal(0) <= value <= Decimal(100):
            _add(errors, "threshold", _("Give the quality score needed, 0 to 100."))
    elif rule.event == RuleEvent.CSAT:
        if value is None:
            rule.threshold = Decimal(5)
        elif not Decimal(1) <= value <= Decimal(5):
            _add(errors, "threshold", _("Give the satisfaction needed, 1 to 5."))
    elif value is not None and rule.event not in THRESHOLD_EVENTS:
        rule.threshold = None


def _validate(rule: PointRule) -> None:
    errors: Errors = {}
    rule.name = (rule.name or "").strip()
    if not rule.name:
        _add(errors, "name", _("Give the rule a name."))
    elif len(rule.name) > 120:
        _add(errors, "name", _("At most 120 characters."))
    if rule.event not in RuleEvent.values:
        _add(errors, "event", _("Choose an event."))
    else:
        _check_amounts(rule, errors)
        _check_threshold(rule, errors)
    if len(rule.description or "") > 2000:
        _add(errors, "description", _("At most 2,000 characters."))
    if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
        _add(errors, "valid_until", _("The end comes before the start."))
    if rule.team is not None and not rule.team.is_active:
        _add(errors, "team", _("This team is not active."))
    if errors:
        raise ValidationFailed(fields=errors)


def create_rule(*, actor, name: str, event: str, points: int = 0, coins=Decimal("0"),
                threshold=None, project=None, team=None, is_active: bool = True,
                valid_from=None, valid_until=None, description: str = "") -> PointRule:  # fmt: skip
    """A new point rule; it pays for events from its next award run on."""
    access.require(access.may_manage_rules(actor))
    rule = PointRule(
        name=name, event=event, points=points, coins=coins, threshold=threshold,
        project=project, team=team, is_active=is_active, valid_from=valid_from,
        valid_until=valid_until, description=description or "", created_by=actor,
    )  # fmt: skip
    _validate(rule)
    with transaction.atomic():
        rule.save()
        audit.record(
            actor=actor,
            instance=rule,
            action=audit.AuditAction.CREATE,
            changes=audit.snapshot(rule, list(RULE_FIELDS)),
        )
    return rule


def update_rule(*, actor, rule: PointRule, **changes: Any) -> PointRule:
    """Change a rule; only the fields in ``RULE_FIELDS`` may change."""
    access.require(access.may_manage_rules(actor))
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    with transaction.atomic():
        current = lock(PointRule, rule.pk)
        diff = audit.apply_changes(current, changes)
        _validate(current)
        if diff:
            current.save()
            audit.record(
                actor=actor, instance=current, action=audit.AuditAction.UPDATE, changes=diff
            )
    return current


def deactivate_rule(*, actor, rule: PointRule) -> PointRule:
    """Stop a rule paying; what it paid stays in the ledger."""
    return update_rule(actor=actor, rule=rule, is_active=False)


def update_settings(*, actor, coin_rate, currency: str = "CNY") -> IncentiveSettings:
    """Set the cash a coin is worth. Requests already made keep the rate they were made at."""
    access.require(access.may_approve(actor) or access.may_manage_rules(actor))
    errors: Errors = {}
    rate = _decimal(coin_rate, "coin_rate", errors)
    if rate is not None and not Decimal(0) <= rate <= Decimal(10000):
        _add(errors, "coin_rate", _("Give a rate between 0 and 10,000."))
    elif rate is not None and rate != rate.quantize(Decimal("0.0001")):
        _add(errors, "coin_rate", _("At most four decimal places."))
    elif rate is None and not errors:
        _add(errors, "coin_rate", _("Give a rate."))
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        _add(errors, "currency", _("Give a three-letter currency code such as CNY."))
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        IncentiveSettings.current()
        current = lock(IncentiveSettings, 1)
        diff = audit.apply_changes(current, {"coin_rate": rate, "currency": currency})
        if diff:
            current.save()
            audit.record(
                actor=actor, instance=current, action=audit.AuditAction.UPDATE, changes=diff
            )
    return current


def correct_entry(*, actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Reverse one entry with a new correction entry (a manager's fix of a wrong payment).

    The original entry stays; the reversal takes the next revision of its source key, so
    correcting it twice is a 409 rather than a double reversal.
    """
    access.require(access.may_manage_rules(actor))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the entry is corrected.")]})
    if entry.kind in (EntryKind.REDEMPTION, EntryKind.CORRECTION):
        raise Conflict(_("Only awards and penalties can be corrected here."))
    with transaction.atomic():
        wallets.lock_wallet(entry.user)
        same = LedgerEntry.objects.filter(
            rule_id=entry.rule_id, source_type=entry.source_type, source_id=entry.source_id
        )
        net = same.values_list("points", "coins")
        points = sum(p for p, _c in net)
        coins = sum((c for _p, c in net), Decimal("0"))
        if points == 0 and coins == 0:
            raise Conflict(_("This payment has already been reversed."))
        correction = LedgerEntry.objects.create(
            user_id=entry.user_id, rule_id=entry.rule_id, event=entry.event,
            kind=EntryKind.CORRECTION, source_type=entry.source_type,
            source_id=entry.source_id, revision=same.count(), points=-points, coins=-coins,
            reason=reason[:300], occurred_at=timezone.now(), created_by=actor,
            team_id=entry.team_id, project_id=entry.project_id,
        )  # fmt: skip
        wallets.refresh([entry.user_id])
        audit.record(
            actor=actor,
            instance=correction,
            action=audit.AuditAction.ACTION,
            verb="correct",
            changes={"entry": [None, entry.pk], "reason": [None, reason[:300]]},
        )
    return correction
