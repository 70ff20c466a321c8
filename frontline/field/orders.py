"""Creating work orders and changing what was agreed with the customer."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Skill
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import DomainError, ValidationFailed
from frontline.core.richtext import sanitize
from frontline.field import access
from frontline.field.events import record
from frontline.field.models import (
    ChecklistItem,
    ChecklistTemplate,
    WorkOrder,
    WorkOrderSkill,
)
from frontline.field.models.scoping import is_field_staff
from frontline.field.states import (
    DONE_STATUSES,
    EventKind,
    Priority,
    WorkOrderType,
)

MAX_SKILLS = 10


def _add(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _check_window(errors: dict, start, end) -> None:
    if (start is None) != (end is None):
        _add(errors, "window_end", _("Give both ends of the appointment window, or neither."))
    elif start is not None and end <= start:
        _add(errors, "window_end", _("The window must end after it starts."))


def _skills(raw, errors: dict) -> dict[int, int]:
    """[{"skill": Skill|id|code, "min_level": 1-5}] → {skill id: level}."""
    out: dict[int, int] = {}
    items = list(raw or ())
    if len(items) > MAX_SKILLS:
        _add(errors, "required_skills", _("At most %(n)d skills.") % {"n": MAX_SKILLS})
        return out
    for item in items:
        skill, level = (
            (item.get("skill"), item.get("min_level", 1)) if isinstance(item, dict) else item
        )
        if not isinstance(skill, Skill):
            skill = Skill.objects.filter(code=str(skill)).first() if skill is not None else None
        try:
            level = int(level)
        except (TypeError, ValueError):
            level = 0
        if skill is None:
            _add(errors, "required_skills", _("No such skill."))
        elif not 1 <= level <= 5:
            _add(errors, "required_skills", _("Levels go from 1 to 5."))
        else:
            out[skill.pk] = max(level, out.get(skill.pk, 0))
    return out


def _validate(actor, *, title, customer, site, project, asset, ticket, revisit_of, errors):
    if not title:
        _add(errors, "title", _("Give the work order a title."))
    elif len(title) > 200:
        _add(errors, "title", _("At most %(n)d characters.") % {"n": 200})
    if customer is None or customer.kind != OrganizationKind.CUSTOMER:
        _add(errors, "customer", _("Choose a customer organisation."))
        return
    if site is None:
        _add(errors, "site", _("Choose the site where the work is done."))
    elif site.customer_id != customer.pk:
        _add(errors, "site", _("This site belongs to another customer."))
    if project is not None and project.customer_id != customer.pk:
        _add(errors, "project", _("This project belongs to another customer."))
    if asset is not None and site is not None and asset.site_id != site.pk:
        _add(errors, "asset", _("This asset is at another site."))
    if ticket is not None and ticket.customer_id != customer.pk:
        _add(errors, "ticket", _("This ticket belongs to another customer."))
    if revisit_of is not None and revisit_of.customer_id != customer.pk:
        _add(errors, "revisit_of", _("That visit was for another customer."))


def _may_follow_up(actor, anomaly) -> bool:
    """An inspection anomaly's follow-up: the operator engineer who found it (the route's
    rule, not their choice, opens the order) or whoever handles anomalies."""
    return bool(
        anomaly is not None
        and is_field_staff(actor)
        and (
            (anomaly.raised_by_id == actor.pk and actor.has_capability(Cap.DO_FIELD_WORK))
            or actor.has_capability(Cap.HANDLE_ANOMALIES)
        )
    )


def create_work_order(
    *,
    actor,
    title,
    site,
    customer=None,
    type=WorkOrderType.REPAIR,
    description="",
    ticket=None,
    project=None,
    asset=None,
    priority=Priority.NORMAL,
    required_skills=(),
    estimated_minutes=60,
    window_start=None,
    window_end=None,
    team=None,
    revisit_of=None,
    route=False,
    follow_up_of=None,
) -> WorkOrder:
    """Open a work order in the queue (status new), with its checklist from the type's
    template. From a ticket, the customer, site and asset default to the ticket's, and the
    ticket's timeline shows the new order.

    With ``route`` (pages and API), a creator who may dispatch also applies the dispatch
    rules at once (``rules.route``: team, partner outlet, offer to the pool); when routing
    is refused the order stays in the queue with a note saying why.

    ``follow_up_of`` is an inspection anomaly (``inspections.Anomaly``) this order follows
    up, opened by its route's rule: then the engineer who found the anomaly, or someone who
    handles anomalies, may open it without dispatch rights — only as an inspection
    follow-up (see ``_may_follow_up``)."""
    access.require(
        access.may_dispatch(actor)
        or access.may_create_from_ticket(actor, ticket)
        or (type == WorkOrderType.INSPECTION_FOLLOW_UP
            and _may_follow_up(actor, follow_up_of))
    )  # fmt: skip
    title = " ".join(str(title or "").split())
    if ticket is not None:
        customer = customer or ticket.customer
        project = project or ticket.project
        asset = asset or ticket.asset
    if site is None and asset is not None:
        site = asset.site
    customer = customer or (site.customer if site is not None else None)
    if isinstance(customer, int):
        customer = Organization.objects.filter(pk=customer).first()
    errors: dict = {}
    _validate(actor, title=title, customer=customer, site=site, project=project, asset=asset,
              ticket=ticket, revisit_of=revisit_of, errors=errors)  # fmt: skip
    if type not in WorkOrderType.values:
        _add(errors, "type", _("Choose a type."))
    if priority not in Priority.values:
        _add(errors, "priority", _("Choose a priority."))
    try:
        estimated_minutes = int(estimated_minutes)
    except (TypeError, ValueError):
        estimated_minutes = 0
    if not 5 <= estimated_minutes <= 24 * 60:
        _add(errors, "estimated_minutes", _("Between 5 minutes and 24 hours."))
    _check_window(errors, window_start, window_end)
    skills = _skills(required_skills, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        wo = WorkOrder.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:16]}",
            type=type,
            title=title,
            description=sanitize(description or ""),
            ticket=ticket,
            customer=customer,
            project=project,
            site=site,
            asset=asset,
            priority=priority,
            estimated_minutes=estimated_minutes,
            window_start=window_start,
            window_end=window_end,
            team=team,
            revisit_of=revisit_of,
            created_by=actor if access.is_user(actor) else None,
        )
        wo.number = f"W-{wo.pk:06d}"
        WorkOrder.objects.filter(pk=wo.pk).update(number=wo.number)
        WorkOrderSkill.objects.bulk_create(
            WorkOrderSkill(work_order=wo, skill_id=s, min_level=level)
            for s, level in skills.items()
        )
        template = ChecklistTemplate.objects.filter(type=type).first()
        if template is not None:
            ChecklistItem.objects.bulk_create(
                ChecklistItem(work_order=wo, position=i, label=line[:200])
                for i, line in enumerate(template.lines())
            )
        record(wo, EventKind.CREATED, author=actor, public=True,
               data={"type": type, "priority": priority, "ticket": ticket.number if ticket else None})  # fmt: skip
        if ticket is not None:
            _note_on_ticket(ticket, wo, actor)
        if route and access.may_dispatch(actor):
            _route(actor, wo)
    return wo


def _route(actor, wo: WorkOrder) -> None:
    from frontline.field.rules import route

    try:
        with transaction.atomic():
            route(actor=actor, work_order=wo)
    except DomainError as exc:
        record(wo, EventKind.NOTE, author=actor, body=str(exc.message),
               data={"routing_refused": exc.code})  # fmt: skip


def _note_on_ticket(ticket, wo, actor) -> None:
    from frontline.desk.events import record_event
    from frontline.desk.states import EventKind as TicketEventKind

    record_event(
        ticket=ticket,
        kind=TicketEventKind.WORK_ORDER,
        author=actor,
        public=True,
        data={"work_order": wo.pk, "number": wo.number, "title": wo.title},
    )


def set_appointment(*, actor, work_order, window_start, window_end, reason="") -> WorkOrder:
    """Agree a new appointment window with the customer (a public timeline event)."""
    errors: dict = {}
    _check_window(errors, window_start, window_end)
    with transaction.atomic():
        wo = WorkOrder.objects.select_for_update(of=("self",)).get(pk=work_order.pk)
        access.require(access.may_dispatch(actor) or access.partner_admin_of(actor, wo))
        if errors:
            raise ValidationFailed(fields=errors)
        if wo.status in DONE_STATUSES:
            raise ValidationFailed(_("This work order is finished; its appointment is history."))
        WorkOrder.objects.filter(pk=wo.pk).update(
            window_start=window_start, window_end=window_end, updated_at=timezone.now()
        )
        wo.window_start, wo.window_end = window_start, window_end
        record(wo, EventKind.APPOINTMENT, author=actor, public=True, body=reason,
               data={"from": _iso(window_start), "until": _iso(window_end)})  # fmt: skip
    return wo


def add_note(*, actor, work_order, body) -> None:
    """An internal note on the work order's timeline."""
    access.require(
        access.may_dispatch(actor)
        or access.is_assignee(actor, work_order)
        or access.partner_admin_of(actor, work_order)
    )
    text = str(body or "").strip()
    if not text:
        raise ValidationFailed(fields={"body": [_("Write something.")]})
    if len(text) > 5000:
        raise ValidationFailed(fields={"body": [_("At most %(n)d characters.") % {"n": 5000}]})
    with transaction.atomic():
        record(work_order, EventKind.NOTE, author=actor, body=text)


def _iso(value):
    return value.isoformat() if value else None
