"""Dispatch rules at work: which rule takes a work order, why, and what it then does.

``match`` reads the active rules in position order and checks every condition a rule
sets against the order, keeping a sentence per condition ("customer 华东生物制药 ≠
云谷数据中心"), so that the preview page and the API can show *why* a rule did or did
not take the order. ``route`` applies the first matching rule (or, with none, the
team's dispatch mode) through the dispatching services. Changing the rules themselves
is ``field.rule_services``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.models import DispatchMode, User
from frontline.core.errors import ValidationFailed
from frontline.core.locks import lock
from frontline.desk.states import Channel
from frontline.field import access, dispatching
from frontline.field.events import record
from frontline.field.models import DispatchRule, WorkOrder, WorkOrderSkill
from frontline.field.states import QUEUE_STATUSES, EventKind, RuleMode

RULE_RELATED = ("customer", "project", "site", "asset_model", "skill", "team", "partner")
ORDER_RELATED = ("customer", "project", "site", "asset__model", "ticket", "team")


@dataclass(frozen=True)
class Check:
    """One condition of one rule against one order: did it hold, and why (in words)."""

    condition: str
    matched: bool
    text: str


@dataclass
class Verdict:
    """One rule against one order: every condition it sets, and whether all held."""

    rule: DispatchRule
    checks: list[Check]
    matched: bool
    chosen: bool = False

    def as_dict(self) -> dict:
        return {
            "rule": self.rule.pk,
            "name": self.rule.name,
            "position": self.rule.position,
            "matched": self.matched,
            "chosen": self.chosen,
            "checks": [
                {"condition": c.condition, "matched": c.matched, "text": c.text}
                for c in self.checks
            ],
        }


def active_rules() -> list[DispatchRule]:
    """Active rules in the order they are tried, with everything ``match`` reads (two queries)."""
    return list(
        DispatchRule.objects.filter(is_active=True)
        .select_related(*RULE_RELATED)
        .prefetch_related(Prefetch("engineers", queryset=User.objects.order_by("pk")))
        .order_by("position", "id")
    )


def load_order(pk: int) -> WorkOrder:
    """A work order with everything ``match`` reads."""
    return (
        WorkOrder.objects.select_related(*ORDER_RELATED)
        .prefetch_related(
            Prefetch("required_skills", queryset=WorkOrderSkill.objects.select_related("skill"))
        )
        .get(pk=pk)
    )


def _name(obj) -> str:
    return "—" if obj is None else str(getattr(obj, "name", None) or obj)


def _compare(condition: str, label: str, actual, wanted, same: bool) -> Check:
    sign = "=" if same else "≠"
    return Check(condition, same, f"{label} {_name(actual)} {sign} {_name(wanted)}")


def _check_skill(rule: DispatchRule, wo: WorkOrder) -> Check:
    needed = [r.skill for r in wo.required_skills.all()]
    held = any(s.pk == rule.skill_id for s in needed)
    names = ", ".join(_name(s) for s in needed) or "—"
    if held:
        text = _("required skills %(have)s include %(want)s")
    else:
        text = _("required skills %(have)s do not include %(want)s")
    return Check("skill", held, text % {"have": names, "want": _name(rule.skill)})


def _check_channel(rule: DispatchRule, wo: WorkOrder) -> Check:
    if wo.ticket is None:
        return Check(
            "channel",
            False,
            _("channel: the order came from no ticket (rule wants %(want)s)")
            % {"want": _channel(rule.channel)},
        )
    actual = wo.ticket.channel
    return _compare(
        "channel", _("channel"), _channel(actual), _channel(rule.channel), actual == rule.channel
    )


def _channel(code: str) -> str:
    """The channel's label in the reader's language (the code when it is unknown)."""
    return str(dict(Channel.choices).get(code, code))


def _check_region(rule: DispatchRule, wo: WorkOrder) -> Check:
    city = (wo.site.city if wo.site else "") or ""
    same = city.strip().casefold() == rule.region.strip().casefold()
    return _compare("region", _("region"), city or "—", rule.region, same)


def checks_for(rule: DispatchRule, wo: WorkOrder) -> list[Check]:
    """A check per condition the rule sets; a rule that sets none matches everything."""
    out: list[Check] = []
    if rule.customer_id:
        out.append(
            _compare(
                "customer",
                _("customer"),
                wo.customer,
                rule.customer,
                wo.customer_id == rule.customer_id,
            )  # fmt: skip
        )
    if rule.project_id:
        out.append(
            _compare(
                "project", _("project"), wo.project, rule.project, wo.project_id == rule.project_id
            )  # fmt: skip
        )
    if rule.site_id:
        out.append(_compare("site", _("site"), wo.site, rule.site, wo.site_id == rule.site_id))
    if rule.region:
        out.append(_check_region(rule, wo))
    if rule.asset_model_id:
        model = wo.asset.model if wo.asset is not None else None
        out.append(
            _compare(
                "asset_model",
                _("asset model"),
                model,
                rule.asset_model,
                model is not None and model.pk == rule.asset_model_id,
            )  # fmt: skip
        )
    if rule.skill_id:
        out.append(_check_skill(rule, wo))
    if rule.channel:
        out.append(_check_channel(rule, wo))
    if rule.priority:
        out.append(
            _compare(
                "priority",
                _("priority"),
                wo.get_priority_display(),
                rule.get_priority_display(),
                wo.priority == rule.priority,
            )  # fmt: skip
        )
    if not out:
        out.append(Check("any", True, _("no conditions: takes every order")))
    return out


def match(
    work_order: WorkOrder, rules: Iterable[DispatchRule] | None = None
) -> tuple[DispatchRule | None, list[Verdict]]:
    """The first active rule (by position) whose every condition holds, and a verdict for
    every rule (in order) saying which conditions held or failed and why."""
    rules = active_rules() if rules is None else [r for r in rules if r.is_active]
    chosen: DispatchRule | None = None
    verdicts = []
    for rule in rules:
        checks = checks_for(rule, work_order)
        verdict = Verdict(rule, checks, all(c.matched for c in checks))
        if verdict.matched and chosen is None:
            chosen, verdict.chosen = rule, True
        verdicts.append(verdict)
    return chosen, verdicts


@dataclass
class Decision:
    """What would happen to an order: the rule (or the team's default), target and mode."""

    work_order: WorkOrder
    rule: DispatchRule | None
    mode: str
    verdicts: list[Verdict]
    team: object | None = None
    partner: object | None = None
    pool: list = field(default_factory=list)
    summary: str = ""

    def as_dict(self) -> dict:
        return {
            "work_order": self.work_order.pk,
            "rule": None if self.rule is None else {"id": self.rule.pk, "name": self.rule.name},
            "mode": self.mode,
            "team": None if self.team is None else {"id": self.team.pk, "name": self.team.name},
            "partner": None
            if self.partner is None
            else {"id": self.partner.pk, "name": self.partner.name},
            "engineers": [{"id": u.pk, "name": u.display_name or u.email} for u in self.pool],
            "summary": self.summary,
            "explanation": [v.as_dict() for v in self.verdicts],
        }


# A team's dispatch mode, read as a rule mode when no rule takes the order.
TEAM_MODES = {
    DispatchMode.ASSIGN: RuleMode.ASSIGN,
    DispatchMode.GRAB: RuleMode.GRAB,
    DispatchMode.AUTO: RuleMode.OPTIMISE,
}


def _summary(decision: Decision) -> str:
    mode = str(RuleMode(decision.mode).label)
    if decision.rule is None:
        if decision.team is None:
            return _("No rule takes this order and it has no team: %(mode)s.") % {"mode": mode}
        return _("No rule takes this order: team %(team)s's default, %(mode)s.") % {
            "team": decision.team.name,
            "mode": mode,
        }
    parts = [_("Rule “%(rule)s” takes this order") % {"rule": decision.rule.name}]
    if decision.partner is not None:
        parts.append(_("to partner outlet %(name)s") % {"name": decision.partner.name})
    elif decision.team is not None:
        parts.append(_("to team %(name)s") % {"name": decision.team.name})
    if decision.pool:
        parts.append(_("among %(n)d engineers") % {"n": len(decision.pool)})
    return " ".join(parts) + ": " + mode + "."


def preview(work_order: WorkOrder, rules: Iterable[DispatchRule] | None = None) -> Decision:
    """Which rule would take this work order, and why: nothing is changed."""
    rule, verdicts = match(work_order, rules)
    if rule is None:
        team = work_order.team
        mode = TEAM_MODES.get(team.dispatch_mode, RuleMode.ASSIGN) if team else RuleMode.ASSIGN
        decision = Decision(work_order, None, mode, verdicts, team=team)
    else:
        decision = Decision(
            work_order,
            rule,
            rule.mode,
            verdicts,
            team=rule.team or work_order.team,
            partner=rule.partner,
            pool=list(rule.engineers.all()),
        )
    decision.summary = _summary(decision)
    return decision


@dataclass
class Routed:
    """What ``route`` did: the decision, and the offer when one was made."""

    decision: Decision
    offer: object | None = None
    note: str = ""


def _set_team(*, actor, work_order: WorkOrder, team, rule: DispatchRule) -> None:
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        if wo.team_id == team.pk:
            return
        WorkOrder.objects.filter(pk=wo.pk).update(team=team, updated_at=timezone.now())
        record(wo, EventKind.NOTE, author=actor,
               body=_("Dispatch rule “%(rule)s”: team %(team)s.")
               % {"rule": rule.name, "team": team.name},
               data={"rule": rule.pk, "team": team.pk})  # fmt: skip
    work_order.team = team


def route(*, actor, work_order: WorkOrder) -> Routed:
    """Apply the first matching rule (else the team's dispatch mode) to an order in the
    queue: set the target team, send to the partner outlet, then leave it for the
    dispatcher (assign), offer it to the eligible engineers of the pool (grab), or leave
    it for the planner (optimise)."""
    access.require(access.may_dispatch(actor))
    wo = load_order(work_order.pk)
    if wo.status not in QUEUE_STATUSES:
        raise ValidationFailed(
            _("Only orders waiting in the queue are routed."), code="not_in_queue"
        )
    decision = preview(wo)
    rule = decision.rule
    if rule is not None and rule.team_id and wo.team_id != rule.team_id:
        _set_team(actor=actor, work_order=wo, team=rule.team, rule=rule)
    if rule is not None and rule.partner_id:
        wo = dispatching.send_to_partner(actor=actor, work_order=wo, partner=rule.partner)
    if decision.mode != RuleMode.GRAB:
        return Routed(decision)
    try:
        grab = dispatching.offer(actor=actor, work_order=wo, pool=decision.pool or None)
    except ValidationFailed as exc:
        if exc.code != "no_eligible_engineer":
            raise
        return Routed(decision, note=str(exc.message))
    return Routed(decision, offer=grab)
