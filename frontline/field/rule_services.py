"""Verbs on dispatch rules (``Cap.MANAGE_DISPATCH_RULES``): create, update, reorder,
deactivate, delete. Pages and API change rules through these and nowhere else; each
checks the capability, validates the whole rule, saves, and writes one audit entry.

Positions are kept as 10, 20, 30 … : a new rule goes last, and moving one renumbers
the list under a lock so two dispatchers reordering at once never share a position.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core import audit
from frontline.core.deletion import erase
from frontline.core.errors import NotFound, ValidationFailed
from frontline.desk.states import Channel
from frontline.field import access
from frontline.field.models import DispatchRule
from frontline.field.states import Priority, RuleMode

RULE_FIELDS = (
    "name",
    "is_active",
    "customer",
    "project",
    "site",
    "region",
    "asset_model",
    "skill",
    "channel",
    "priority",
    "team",
    "partner",
    "mode",
)
STEP = 10

Errors = dict[str, list[str]]


def _add(errors: Errors, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def _check_conditions(rule: DispatchRule, errors: Errors) -> None:
    if rule.customer is not None and rule.customer.kind != OrganizationKind.CUSTOMER:
        _add(errors, "customer", _("Choose a customer organisation."))
    if rule.customer_id and rule.site is not None and rule.site.customer_id != rule.customer_id:
        _add(errors, "site", _("This site belongs to another customer."))
    if (
        rule.customer_id
        and rule.project is not None
        and rule.project.customer_id != rule.customer_id
    ):
        _add(errors, "project", _("This project belongs to another customer."))
    if rule.channel and rule.channel not in Channel.values:
        _add(errors, "channel", _("Choose a ticket channel."))
    if rule.priority and rule.priority not in Priority.values:
        _add(errors, "priority", _("Choose a priority."))


def _check_target(rule: DispatchRule, engineers, errors: Errors) -> None:
    if rule.mode not in RuleMode.values:
        _add(errors, "mode", _("Choose a mode."))
    if rule.partner is not None and (
        rule.partner.kind != OrganizationKind.PARTNER or not rule.partner.is_active
    ):
        _add(errors, "partner", _("Choose an active partner outlet."))
    if rule.team is not None and not rule.team.is_active:
        _add(errors, "team", _("This team is not active."))
    for user in engineers or ():
        if not user.is_active or not user.has_capability(Cap.DO_FIELD_WORK):
            _add(errors, "engineers", _("%(name)s is not an engineer.") % {"name": user})
            continue
        org = user.organization
        wanted = rule.partner_id
        if (wanted and (org is None or org.pk != wanted)) or (
            not wanted and (org is None or org.kind != OrganizationKind.OPERATOR)
        ):
            _add(
                errors,
                "engineers",
                _("%(name)s is not an engineer of the target organisation.") % {"name": user},
            )


def _validate(rule: DispatchRule, engineers) -> None:
    errors: Errors = {}
    rule.name = " ".join(str(rule.name or "").split())
    rule.region = (rule.region or "").strip()
    if not rule.name:
        _add(errors, "name", _("Give the rule a name."))
    elif len(rule.name) > 120:
        _add(errors, "name", _("At most %(n)d characters.") % {"n": 120})
    if len(rule.region) > 100:
        _add(errors, "region", _("At most %(n)d characters.") % {"n": 100})
    _check_conditions(rule, errors)
    _check_target(rule, engineers, errors)
    if errors:
        raise ValidationFailed(fields=errors)


def _require(actor) -> None:
    access.require(access.may_manage_rules(actor))


def _locked(actor, pk) -> DispatchRule:
    visible = DispatchRule.objects.visible_to(actor).filter(pk=pk).values("pk")
    rule = DispatchRule.objects.select_for_update(of=("self",)).filter(pk__in=visible).first()
    if rule is None:
        raise NotFound()
    return rule


def create_rule(*, actor, engineers=(), **values: Any) -> DispatchRule:
    """Add a rule at the end of the list (it is tried last)."""
    _require(actor)
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise ValidationFailed(fields={n: [_("Unknown field.")] for n in unknown})
    values.setdefault("mode", RuleMode.ASSIGN)
    for name in ("region", "channel", "priority"):
        values[name] = values.get(name) or ""
    engineers = list(engineers or ())
    with transaction.atomic():
        rule = DispatchRule(**values)
        _validate(rule, engineers)
        rules = list(DispatchRule.objects.select_for_update().order_by("position", "id"))
        rule.position = (max((r.position for r in rules), default=0) // STEP + 1) * STEP
        rule.save()
        rule.engineers.set(engineers)
        changes = audit.snapshot(rule, [*RULE_FIELDS, "position"])
        changes.update(audit.m2m_diff("engineers", [], engineers))
        audit.record(actor=actor, instance=rule, action=audit.AuditAction.CREATE, changes=changes)
    return rule


def update_rule(*, actor, rule: DispatchRule, engineers=None, **changes: Any) -> DispatchRule:
    """Change a rule's name, conditions, target or mode (``engineers``, when given, replace)."""
    _require(actor)
    unknown = sorted(set(changes) - set(RULE_FIELDS))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )
    for name in ("region", "channel", "priority"):
        if name in changes:
            changes[name] = changes[name] or ""
    with transaction.atomic():
        rule = _locked(actor, rule.pk)
        old_pool = list(rule.engineers.all())
        new_pool = old_pool if engineers is None else list(engineers)
        diff = audit.apply_changes(rule, changes)
        diff.update(audit.m2m_diff("engineers", old_pool, new_pool))
        if diff:
            _validate(rule, new_pool)
            rule.save()
            if engineers is not None:
                rule.engineers.set(new_pool)
            audit.record(actor=actor, instance=rule, action=audit.AuditAction.UPDATE, changes=diff)
    return rule


def deactivate_rule(*, actor, rule: DispatchRule) -> DispatchRule:
    """Stop trying a rule without losing it (``update_rule(is_active=True)`` brings it back)."""
    return update_rule(actor=actor, rule=rule, is_active=False)


def _renumber(actor, ordered: list[DispatchRule]) -> None:
    for index, rule in enumerate(ordered, start=1):
        position = index * STEP
        if rule.position != position:
            diff = {"position": [rule.position, position]}
            DispatchRule.objects.filter(pk=rule.pk).update(position=position)
            rule.position = position
            audit.record(actor=actor, instance=rule, action=audit.AuditAction.UPDATE,
                         changes=diff, verb="reorder")  # fmt: skip


def move_rule(*, actor, rule: DispatchRule, direction: str) -> DispatchRule:
    """Move a rule one place up (tried earlier) or down (tried later)."""
    _require(actor)
    if direction not in ("up", "down"):
        raise ValidationFailed(fields={"direction": [_("Up or down.")]})
    with transaction.atomic():
        ordered = list(DispatchRule.objects.select_for_update().order_by("position", "id"))
        index = next((i for i, r in enumerate(ordered) if r.pk == rule.pk), None)
        if index is None:
            raise NotFound()
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
        _renumber(actor, ordered)
    return next(r for r in ordered if r.pk == rule.pk)


def reorder_rules(*, actor, rule_ids: list[int]) -> list[DispatchRule]:
    """Put every rule in the given order (all ids, each once)."""
    _require(actor)
    with transaction.atomic():
        ordered = list(DispatchRule.objects.select_for_update().order_by("position", "id"))
        by_id = {r.pk: r for r in ordered}
        ids = [int(i) for i in rule_ids]
        if sorted(ids) != sorted(by_id):
            raise ValidationFailed(fields={"rules": [_("Give every rule's id exactly once.")]})
        ordered = [by_id[i] for i in ids]
        _renumber(actor, ordered)
    return ordered


def delete_rule(*, actor, rule: DispatchRule) -> None:
    """Erase a rule (the audit trail keeps its last values)."""
    _require(actor)
    with transaction.atomic():
        rule = _locked(actor, rule.pk)
        erase(
            actor=actor,
            instance=rule,
            fields=[*RULE_FIELDS, "position"],
            in_use_message=_("This rule is still in use."),
            extra_changes={"engineers": [None, sorted(str(u) for u in rule.engineers.all())]},
        )
