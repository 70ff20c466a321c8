"""Calls for fire ("全员一杆枪"), the fire levels, and bug briefs.

Any operator user can call fire on a ticket at a severity level. The level's
``SeverityLevel`` says who is summoned (roles, teams, people); each summoned person
gets an inbox notification and an email (after commit, deduplicated per call), and
anyone on the operator side can join the ticket's room. Resolving the ticket closes
the call; a ticket that had one needs a bug brief before it is resolved.

One open call per ticket (a database constraint backs this up). Calling again while
a call is open **escalates** it when the new level is more severe (S1 is more severe
than S2): the level rises, the people the new level adds are summoned and notified,
and those already summoned are not notified again. Calling again at the same or a
lower level is a 409 Conflict: join the room instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team, User
from frontline.accounts.roles import ROLES_BY_KIND, Cap, OrganizationKind, Role
from frontline.core import audit
from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.core.models import AuditAction
from frontline.core.richtext import to_text
from frontline.desk.access import is_desk_staff, may_call_fire, may_work
from frontline.desk.events import record_event
from frontline.desk.models import BugBrief, FireCall, FireSummons, SeverityLevel, Ticket
from frontline.desk.states import DONE_STATUSES, EventKind, Severity
from frontline.notifications.services import notify

MESSAGE_MAX = 2000
BRIEF_FIELD_MAX = 10_000
OPERATOR_ROLES = frozenset(ROLES_BY_KIND[OrganizationKind.OPERATOR])
# Summoned when a level has no configuration row at all.
FALLBACK_ROLES = (Role.ADMIN, Role.MANAGER)
# S1 is the most severe; a smaller rank is a bigger fire.
SEVERITY_RANK = {code: i for i, code in enumerate(Severity.values)}
FIRE_CALLED_KIND = "desk.fire_called"

ALREADY_OPEN = _(
    "Fire is already called on this ticket at %(level)s. Join the room, or call at a more "
    "severe level to escalate."
)
TICKET_DONE = _("This ticket is resolved or closed; reopen it before calling fire.")
CALL_CLOSED = _("This fire call is closed.")
REQUIRED = _("This field is required.")
TOO_LONG = _("Keep it under %(max)d characters.")


# ---------------------------------------------------------------- levels


@dataclass(frozen=True)
class DefaultLevel:
    severity: str
    name: str
    description: str
    roles: tuple[str, ...]
    customer_may_choose: bool = True


# Stored data, editable by admins; the names are the house's bilingual fire vocabulary.
DEFAULT_LEVELS = (
    DefaultLevel(
        Severity.S1,
        "导弹 / missile",
        "生产中断，全员响应 / Production down: everyone responds.",
        (Role.ADMIN, Role.MANAGER, Role.DISPATCHER, Role.ENGINEER),
    ),
    DefaultLevel(
        Severity.S2,
        "炮 / artillery",
        "严重降级，业务受阻 / Severe degradation: the business is impeded.",
        (Role.MANAGER, Role.DISPATCHER, Role.ENGINEER),
    ),
    DefaultLevel(
        Severity.S3,
        "机枪 / machine gun",
        "影响有限，有替代办法 / Limited impact, a workaround exists.",
        (Role.DISPATCHER, Role.AGENT),
    ),
    DefaultLevel(
        Severity.S4,
        "枪 / rifle",
        "咨询或请求 / A question or a request.",
        (Role.AGENT,),
    ),
)


def ensure_default_levels() -> None:
    """Create the four default fire levels that are missing (idempotent, race-safe).

    Called lazily when levels are listed or fire is called; one query once they exist.
    An admin's edits are never overwritten.
    """
    existing = set(SeverityLevel.objects.values_list("severity", flat=True))
    for level in DEFAULT_LEVELS:
        if level.severity in existing:
            continue
        SeverityLevel.objects.get_or_create(
            severity=level.severity,
            defaults={
                "name": level.name,
                "description": level.description,
                "summon_roles": list(level.roles),
                "customer_may_choose": level.customer_may_choose,
            },
        )


def level_names() -> dict[str, str]:
    """``{"S1": "S1 导弹 / missile", …}``; a level without a row shows its built-in label."""
    names = {code: str(label) for code, label in Severity.choices}
    for severity, name in SeverityLevel.objects.values_list("severity", "name"):
        names[severity] = f"{severity} {name}"
    return names


def _operator_users() -> models.QuerySet:
    return User.objects.filter(
        is_active=True, membership__organization__kind=OrganizationKind.OPERATOR
    )


def summoned_users(level) -> models.QuerySet:
    """Who a fire call at ``level`` (a severity code or a SeverityLevel) summons.

    Active operator users whose role the level names, members of its active teams,
    and the people it names; each once. Customers, partners and suppliers never,
    even when named. A level without a configuration row summons admins and managers.
    """
    row = level if isinstance(level, SeverityLevel) else None
    if row is None:
        row = SeverityLevel.objects.filter(severity=level).first()
    if row is None:
        who = models.Q(membership__role__in=FALLBACK_ROLES)
    else:
        roles = [r for r in row.summon_roles or [] if r in OPERATOR_ROLES]
        team_members = Team.members.through.objects.filter(
            team__in=row.summon_teams.filter(is_active=True).values("pk")
        ).values("user_id")
        named = SeverityLevel.summon_users.through.objects.filter(severitylevel_id=row.pk).values(
            "user_id"
        )
        who = (
            models.Q(membership__role__in=roles)
            | models.Q(pk__in=team_members)
            | models.Q(pk__in=named)
        )
    # Subqueries, not joins: each person appears once without DISTINCT.
    return _operator_users().filter(who).order_by("display_name", "pk")


# ---------------------------------------------------------------- the feed

# The feed lists calls closed this many days ago or later below the open ones.
RECENT_DAYS = 7


def feed_queryset(user) -> models.QuerySet:
    """Fire calls the user may see, with everything the feed shows, in a fixed number of queries."""
    summons = FireSummons.objects.select_related("user").order_by(
        "-joined_at", "user__display_name", "pk"
    )
    return (
        FireCall.objects.visible_to(user)
        .select_related("ticket__customer", "ticket__owner", "called_by")
        .prefetch_related(models.Prefetch("summons", queryset=summons))
    )


# ---------------------------------------------------------------- checks


def _deny(actor, ticket: Ticket):
    """What a refused actor gets: 404 when they cannot even see the ticket, else 403."""
    if not Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists():
        return NotFound()
    return PermissionDenied()


def _clean_text(value, *, field: str, required: bool, limit: int, errors: dict) -> str:
    # Plain text: tags are dropped (never rendered as HTML anyway); templates escape it.
    text = to_text(str(value or "")).strip()
    if required and not text:
        errors[field] = [REQUIRED]
    elif len(text) > limit:
        errors[field] = [TOO_LONG % {"max": limit}]
    return text


def _as_html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


# ---------------------------------------------------------------- calling fire


def call_fire(*, actor, ticket: Ticket, level: str, message: str) -> FireCall:
    """Call fire on ``ticket`` at ``level``; escalates an open call to a more severe level.

    Summons and notifies the level's people (not the caller, who is in the room at once).
    Raises NotFound/PermissionDenied, ValidationFailed (level, message), Conflict (an
    open call at the same or a more severe level, or a resolved ticket).
    """
    if not may_call_fire(actor):
        raise _deny(actor, ticket)
    errors: dict = {}
    if level not in Severity.values:
        errors["level"] = [_("Choose one of S1, S2, S3, S4.")]
    text = _clean_text(message, field="message", required=True, limit=MESSAGE_MAX, errors=errors)
    if errors:
        raise ValidationFailed(fields=errors)
    ensure_default_levels()
    try:
        with transaction.atomic():
            return _call_fire(actor=actor, ticket_pk=ticket.pk, level=level, text=text, into=ticket)
    except IntegrityError:
        # Two calls raced past the lock on a database without row locks (the constraint held).
        raise Conflict(ALREADY_OPEN % {"level": level})


def _call_fire(*, actor, ticket_pk: int, level: str, text: str, into: Ticket) -> FireCall:
    ticket = lock(Ticket, ticket_pk)
    if ticket.status in DONE_STATUSES:
        raise Conflict(TICKET_DONE)
    now = timezone.now()
    call = FireCall.objects.filter(ticket=ticket, closed_at__isnull=True).first()
    escalated_from = None
    if call is not None:
        if SEVERITY_RANK[level] >= SEVERITY_RANK[call.level]:
            raise Conflict(ALREADY_OPEN % {"level": call.level})
        escalated_from = call.level
        FireCall.objects.filter(pk=call.pk).update(level=level)
        call.level = level
    else:
        call = FireCall.objects.create(ticket=ticket, level=level, message=text, called_by=actor)

    people = list(summoned_users(level))
    FireSummons.objects.bulk_create(
        [FireSummons(fire_call=call, user=u, summoned=True) for u in people],
        ignore_conflicts=True,
    )
    # Someone summoned only by an escalation was not summoned before: mark them now.
    FireSummons.objects.filter(fire_call=call, user__in=people, summoned=False).update(
        summoned=True
    )
    # The caller is in the room from the first minute.
    FireSummons.objects.get_or_create(
        fire_call=call, user=actor, defaults={"summoned": False, "joined_at": now}
    )
    FireSummons.objects.filter(fire_call=call, user=actor, joined_at__isnull=True).update(
        joined_at=now
    )
    Ticket.objects.filter(pk=ticket.pk).update(fire_open=True, had_fire_call=True, updated_at=now)
    ticket.watchers.add(actor)
    for target in (ticket, into):
        target.fire_open = target.had_fire_call = True
    record_event(
        ticket=ticket,
        kind=EventKind.FIRE_CALLED,
        author=actor,
        public=False,
        body=_as_html(text),
        data={
            "fire_call": call.pk,
            "level": level,
            "escalated_from": escalated_from,
            "summoned": [u.pk for u in people],
        },
    )
    _notify_summoned(call=call, ticket=ticket, actor=actor, people=people, text=text)
    return call


def _notify_summoned(*, call: FireCall, ticket: Ticket, actor, people, text: str) -> None:
    names = level_names()
    notify(
        recipients=[u for u in people if u.pk != actor.pk],
        kind=FIRE_CALLED_KIND,
        title=format_lazy(
            _("Fire called at {level}: {number} {title}"),
            level=names.get(call.level, call.level),
            number=ticket.number,
            title=ticket.title,
        ),
        body=format_lazy(
            _("{caller} calls for fire on {customer}'s ticket and summons you:\n\n{message}"),
            caller=str(actor),
            customer=ticket.customer.name,
            message=text,
        ),
        url=ticket.get_absolute_url(),
        # One call notifies a person once, also when it is escalated or retried.
        dedupe_key=f"fire:{call.pk}",
    )


# ---------------------------------------------------------------- joining and closing


def join_fire(*, actor, fire_call: FireCall) -> FireSummons:
    """Join the room of an open fire call (anyone on the operator side); joining twice is a no-op.

    The joiner watches the ticket from then on. Customers and partners get a 404.
    """
    if not is_desk_staff(actor):
        raise NotFound()
    with transaction.atomic():
        call = lock(FireCall, fire_call.pk)
        if call.closed_at is not None:
            raise Conflict(CALL_CLOSED)
        now = timezone.now()
        summons, created = FireSummons.objects.get_or_create(
            fire_call=call, user=actor, defaults={"summoned": False, "joined_at": now}
        )
        joined = created or bool(
            FireSummons.objects.filter(pk=summons.pk, joined_at__isnull=True).update(joined_at=now)
        )
        if not joined:
            return summons
        summons.joined_at = now
        ticket = call.ticket
        ticket.watchers.add(actor)
        record_event(
            ticket=ticket,
            kind=EventKind.FIRE_JOINED,
            author=actor,
            public=False,
            data={"fire_call": call.pk, "summoned": summons.summoned},
        )
        return summons


def close_fire_calls(*, actor, ticket: Ticket) -> int:
    """Close the ticket's open fire call (called by the ticket services when it is resolved).

    The caller has already authorised the resolution; ``actor`` may be None (the system).
    Returns how many calls were closed (0 or 1); closing twice does nothing.
    """
    with transaction.atomic():
        now = timezone.now()
        open_calls = list(
            FireCall.objects.filter(ticket=ticket, closed_at__isnull=True).values_list(
                "pk", "level"
            )
        )
        closed = FireCall.objects.filter(
            pk__in=[pk for pk, _level in open_calls], closed_at__isnull=True
        ).update(closed_at=now)
        Ticket.objects.filter(pk=ticket.pk, fire_open=True).update(fire_open=False)
        ticket.fire_open = False
        if closed:
            record_event(
                ticket=ticket,
                kind=EventKind.FIRE_CLOSED,
                author=actor,
                public=False,
                data={"fire_calls": [pk for pk, _level in open_calls]},
            )
        return closed


# ---------------------------------------------------------------- bug briefs

BRIEF_FIELDS = ("symptom", "impact", "scope", "workaround", "root_cause", "fix", "prevention")
BRIEF_OPTIONAL = frozenset({"workaround"})


def brief_required(ticket: Ticket) -> bool:
    """A ticket that had a fire call cannot be resolved without a bug brief."""
    return bool(ticket.had_fire_call) and not BugBrief.objects.filter(ticket=ticket).exists()


def check_brief_before_resolving(ticket: Ticket) -> None:
    """For the ticket services' resolve transition: a 400 naming the missing brief."""
    if brief_required(ticket):
        raise ValidationFailed(
            _("This ticket had a fire call: write the bug brief before resolving it."),
            code="brief_required",
            fields={"brief": [_("A bug brief is required.")]},
        )


def write_brief(
    *,
    actor,
    ticket: Ticket,
    symptom: str,
    impact: str,
    scope: str,
    workaround: str = "",
    root_cause: str,
    fix: str,
    prevention: str,
) -> BugBrief:
    """Write or rewrite the ticket's bug brief (staff who work tickets). All but workaround required."""
    if not may_work(actor):
        raise _deny(actor, ticket)
    given = {
        "symptom": symptom,
        "impact": impact,
        "scope": scope,
        "workaround": workaround,
        "root_cause": root_cause,
        "fix": fix,
        "prevention": prevention,
    }
    errors: dict = {}
    values = {
        name: _clean_text(
            given[name],
            field=name,
            required=name not in BRIEF_OPTIONAL,
            limit=BRIEF_FIELD_MAX,
            errors=errors,
        )
        for name in BRIEF_FIELDS
    }
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        locked = lock(Ticket, ticket.pk)
        brief = BugBrief.objects.filter(ticket=locked).first()
        if brief is None:
            brief = BugBrief.objects.create(ticket=locked, author=actor, **values)
            changed = {name: [None, value] for name, value in values.items()}
        else:
            changed = audit.apply_changes(brief, values)
            if not changed:
                return brief
            brief.author = actor
            brief.save()
        record_event(
            ticket=locked,
            kind=EventKind.BRIEF,
            author=actor,
            public=False,
            data={"brief": brief.pk, "fields": sorted(changed)},
        )
        return brief


# ---------------------------------------------------------------- level configuration

LEVEL_FIELDS = ("name", "description", "summon_roles", "customer_may_choose")


def update_severity_level(*, actor, level: SeverityLevel, **changes) -> SeverityLevel:
    """Change a fire level: its name, description, who it summons, whether customers may pick it.

    ``changes`` may hold name, description, summon_roles, summon_teams, summon_users,
    customer_may_choose. Only operator roles, teams and people can be summoned.
    """
    if not getattr(actor, "is_authenticated", False) or not actor.has_capability(
        Cap.MANAGE_DESK_CONFIG
    ):
        if not SeverityLevel.objects.visible_to(actor).filter(pk=level.pk).exists():
            raise NotFound()
        raise PermissionDenied()
    unknown = set(changes) - {*LEVEL_FIELDS, "summon_teams", "summon_users"}
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    errors = _level_errors(changes)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        row = lock(SeverityLevel, level.pk)
        values = {k: v for k, v in changes.items() if k in LEVEL_FIELDS}
        if "name" in values:
            values["name"] = str(values["name"]).strip()
        if "summon_roles" in values:
            values["summon_roles"] = sorted(set(values["summon_roles"]))
        diff = audit.apply_changes(row, values)
        if diff:
            row.save()
        for field in ("summon_teams", "summon_users"):
            if field in changes:
                manager = getattr(row, field)
                old = list(manager.all())
                manager.set(list(changes[field]))
                diff.update(audit.m2m_diff(field, old, list(changes[field])))
        if diff:
            audit.record(actor=actor, instance=row, action=AuditAction.UPDATE, changes=diff)
        return row


def _level_errors(changes: dict) -> dict:
    errors: dict = {}
    if "name" in changes and not str(changes["name"] or "").strip():
        errors["name"] = [REQUIRED]
    if "name" in changes and len(str(changes["name"] or "")) > 60:
        errors["name"] = [TOO_LONG % {"max": 60}]
    roles = changes.get("summon_roles")
    if roles is not None and (
        not isinstance(roles, list | tuple | set) or any(r not in OPERATOR_ROLES for r in roles)
    ):
        errors["summon_roles"] = [_("Only operator roles can be summoned.")]
    teams = changes.get("summon_teams")
    if teams is not None and any(t.organization.kind != OrganizationKind.OPERATOR for t in teams):
        errors["summon_teams"] = [_("Only the operator's own teams can be summoned.")]
    users = changes.get("summon_users")
    if users is not None and any(
        u.organization is None or u.organization.kind != OrganizationKind.OPERATOR for u in users
    ):
        errors["summon_users"] = [_("Only people of the operator can be summoned.")]
    return errors
