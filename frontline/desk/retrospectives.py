"""Retrospectives (回溯报告): what happened on a ticket, why, and what we will change.

Closing an S1 or S2 ticket requires one (``transition`` in ``desk.tickets`` checks
``ticket.retrospective``); these verbs write it. The timeline starts as a copy of the
ticket's events — internal ones included, a retrospective is internal — and the
author edits it freely: it is a narrative, not the append-only record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User
from frontline.core.errors import NotFound, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.core.rest import parse_id
from frontline.core.richtext import to_text
from frontline.desk.access import is_desk_staff, may_work
from frontline.desk.events import record_event
from frontline.desk.models import Retrospective, RetrospectiveAction, Ticket, TicketEvent
from frontline.desk.models.fire import Attribution
from frontline.desk.states import EventKind, Severity

RETROSPECTIVE_SEVERITIES = frozenset({Severity.S1, Severity.S2})
MAX_TIMELINE_ROWS = 500
MAX_TIMELINE_TEXT = 2_000
MAX_ACTIONS = 50
MAX_SUMMARY = 20_000


def requires_retrospective(ticket: Ticket) -> bool:
    """Whether closing ``ticket`` needs a retrospective first (S1 and S2)."""
    return ticket.severity in RETROSPECTIVE_SEVERITIES


def has_retrospective(ticket: Ticket) -> bool:
    return Retrospective.objects.filter(ticket_id=ticket.pk).exists()


def _require(actor) -> None:
    if not is_desk_staff(actor):
        raise NotFound()
    if not may_work(actor):
        raise PermissionDenied()


# ---------------------------------------------------------------- timeline


def prefill_timeline(ticket: Ticket) -> list[dict[str, str]]:
    """The ticket's events as timeline rows ``{at, kind, text}`` (local time, plain text)."""
    events = TicketEvent.objects.filter(ticket_id=ticket.pk).select_related("author")
    rows = []
    for event in events.order_by("created_at", "pk")[:MAX_TIMELINE_ROWS]:
        label = str(EventKind(event.kind).label) if event.kind in EventKind.values else event.kind
        text = to_text(event.body)
        who = str(event.author) if event.author_id else ""
        parts = [p for p in (who, text or label) if p]
        rows.append(
            {
                "at": timezone.localtime(event.created_at).isoformat(timespec="minutes"),
                "kind": event.kind,
                "text": " · ".join(parts)[:MAX_TIMELINE_TEXT],
            }
        )
    return rows


def parse_at(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def clean_timeline(rows: Any) -> list[dict[str, str]]:
    """Validated timeline rows, in time order; every bad row is reported by its position."""
    if not isinstance(rows, list | tuple):
        raise ValidationFailed(fields={"timeline": [_("Give the timeline as a list of rows.")]})
    if len(rows) > MAX_TIMELINE_ROWS:
        raise ValidationFailed(
            fields={"timeline": [_("At most %(n)d rows.") % {"n": MAX_TIMELINE_ROWS}]}
        )
    errors: list[str] = []
    clean: list[tuple[dt.datetime, dict[str, str]]] = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(str(_("Row %(n)d: give at, kind and text.") % {"n": index}))
            continue
        at = parse_at(row.get("at"))
        kind = str(row.get("kind") or "").strip()[:40]
        text = row.get("text")
        text = text.strip() if isinstance(text, str) else ""
        if at is None:
            errors.append(str(_("Row %(n)d: give a date and time.") % {"n": index}))
        if not text:
            errors.append(str(_("Row %(n)d: say what happened.") % {"n": index}))
        elif len(text) > MAX_TIMELINE_TEXT:
            errors.append(
                str(
                    _("Row %(n)d: at most %(max)d characters.")
                    % {"n": index, "max": MAX_TIMELINE_TEXT}
                )
            )
        if at is not None and text:
            local = timezone.localtime(at).isoformat(timespec="minutes")
            clean.append((at, {"at": local, "kind": kind, "text": text}))
    if errors:
        raise ValidationFailed(errors[0], fields={"timeline": errors})
    clean.sort(key=lambda pair: pair[0])
    return [row for _at, row in clean]


# ---------------------------------------------------------------- actions


def _action_owner(value) -> User | None:
    if isinstance(value, User):
        user = value
    else:
        pk = parse_id(value) if value is not None else None
        user = User.objects.filter(pk=pk).first() if pk else None
    return user if user is not None and user.is_active and is_desk_staff(user) else None


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def clean_actions(actions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated actions ``{id?, description, owner, due_on}``; owners are operator people."""
    items = list(actions or [])
    if len(items) > MAX_ACTIONS:
        raise ValidationFailed(
            fields={"actions": [_("At most %(n)d actions.") % {"n": MAX_ACTIONS}]}
        )
    errors: list[str] = []
    clean = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(
                str(_("Action %(n)d: give description, owner and due date.") % {"n": index})
            )
            continue
        description = str(item.get("description") or "").strip()
        owner = _action_owner(item.get("owner"))
        due_on = _parse_date(item.get("due_on"))
        if not description:
            errors.append(str(_("Action %(n)d: say what will be done.") % {"n": index}))
        elif len(description) > 300:
            errors.append(str(_("Action %(n)d: at most 300 characters.") % {"n": index}))
        if owner is None:
            errors.append(
                str(
                    _("Action %(n)d: the owner must be an active person of the operator.")
                    % {"n": index}
                )
            )
        if due_on is None:
            errors.append(str(_("Action %(n)d: give a due date.") % {"n": index}))
        pk = parse_id(item["id"]) if item.get("id") not in (None, "") else None
        clean.append({"id": pk, "description": description, "owner": owner, "due_on": due_on})
    if errors:
        raise ValidationFailed(errors[0], fields={"actions": errors})
    return clean


def _save_actions(retro: Retrospective, actions: list[dict[str, Any]]) -> None:
    """Make the retrospective's actions exactly ``actions``; listed ids keep their done state."""
    existing = {a.pk: a for a in RetrospectiveAction.objects.filter(retrospective=retro)}
    keep: set[int] = set()
    for item in actions:
        action = existing.get(item["id"]) if item["id"] else None
        if action is None:
            RetrospectiveAction.objects.create(
                retrospective=retro,
                description=item["description"],
                owner=item["owner"],
                due_on=item["due_on"],
            )
            continue
        keep.add(action.pk)
        action.description, action.owner, action.due_on = (
            item["description"],
            item["owner"],
            item["due_on"],
        )
        action.save(update_fields=["description", "owner", "due_on"])
    RetrospectiveAction.objects.filter(pk__in=set(existing) - keep).delete()


# ---------------------------------------------------------------- verbs


def write_retrospective(
    *,
    actor,
    ticket: Ticket,
    summary: str,
    attribution: str,
    timeline: list[dict[str, Any]] | None = None,
    actions: Iterable[dict[str, Any]] = (),
) -> Retrospective:
    """Write (or rewrite) the ticket's retrospective; ``timeline=None`` pre-fills it from events.

    ``actions`` replaces the list: an item with the ``id`` of an existing action updates it
    (and keeps it done if it was), items without one are added, the rest are removed.
    """
    _require(actor)
    errors: dict[str, list[str]] = {}
    summary = (summary or "").strip()
    if not summary:
        errors["summary"] = [str(_("Summarise what happened."))]
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = [str(_("At most 20,000 characters."))]
    if attribution not in Attribution.values:
        errors["attribution"] = [str(_("Choose one of the listed attributions."))]
    clean_rows = None
    if timeline is not None:
        try:
            clean_rows = clean_timeline(timeline)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    clean_acts: list[dict[str, Any]] = []
    try:
        clean_acts = clean_actions(actions)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)

    with transaction.atomic():
        locked = lock(Ticket.objects.visible_to(actor), ticket.pk)
        retro = Retrospective.objects.filter(ticket=locked).first()
        rows = (
            clean_rows
            if clean_rows is not None
            else (retro.timeline if retro is not None else prefill_timeline(locked))
        )
        created = retro is None
        if created:
            retro = Retrospective.objects.create(
                ticket=locked, summary=summary, attribution=attribution, timeline=rows, author=actor
            )
        else:
            retro.summary, retro.attribution, retro.timeline = summary, attribution, rows
            retro.save(update_fields=["summary", "attribution", "timeline", "updated_at"])
        _save_actions(retro, clean_acts)
        record_event(
            ticket=locked,
            kind=EventKind.RETROSPECTIVE,
            author=actor,
            public=False,
            body=str(
                _("Retrospective written: %(attribution)s.")
                if created
                else _("Retrospective updated: %(attribution)s.")
            )
            % {"attribution": Attribution(attribution).label},
            data={"retrospective": retro.pk, "created": created, "actions": len(clean_acts)},
        )
    return retro


def complete_action(*, actor, action: RetrospectiveAction) -> RetrospectiveAction:
    """Mark one follow-up action done (doing it twice changes nothing)."""
    _require(actor)
    with transaction.atomic():
        current = lock(
            RetrospectiveAction.objects.visible_to(actor).select_related("retrospective__ticket"),
            action.pk,
        )
        if current.done_at is None:
            current.done_at = timezone.now()
            RetrospectiveAction.objects.filter(pk=current.pk, done_at__isnull=True).update(
                done_at=current.done_at
            )
            record_event(
                ticket=current.retrospective.ticket,
                kind=EventKind.RETROSPECTIVE,
                author=actor,
                public=False,
                body=str(
                    _("Retrospective action done: %(action)s.") % {"action": current.description}
                ),
                data={
                    "retrospective": current.retrospective_id,
                    "action": current.pk,
                    "done": True,
                },
            )
    return current
