"""Ticket verbs: the one way to open, handle and change a ticket.

Pages, the API, intake jobs and the admin call these functions, never ``save()``.
Every verb takes keyword-only arguments, runs in ``transaction.atomic()`` with the
ticket's row locked (``frontline.core.locks.lock``), checks who may act
(``frontline.desk.access``), appends to the timeline (``record_event``: the timeline is
the ticket's audit trail), recomputes the SLA after changes that matter to it, and
notifies through ``frontline.notifications.services.notify`` inside the same
transaction (its outbox sends after commit). Errors are
``frontline.core.errors.{ValidationFailed, PermissionDenied, NotFound, Conflict}``.

Hand-offs and reassignment live in ``desk.handoffs``; status changes, confirmation,
reopening and rating in ``desk.lifecycle``; all are re-exported here.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Team, User
from frontline.accounts.roles import Cap, OrganizationKind, Role
from frontline.core import audit
from frontline.core import files as stored_files
from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.desk import access, uploads
from frontline.desk.events import record_event
from frontline.desk.handling import (
    change_status,
    clean_body,
    handle_first,
    is_user,
    locked,
    recompute_sla,
    require_staff,
    require_staff_or_customer,
    save,
    staff_and_customers,
    tell,
    watchers_and_contact,
)
from frontline.desk.handoffs import (
    accept_hand_off,
    cancel_hand_off,
    decline_hand_off,
    reassign,
    request_hand_off,
)
from frontline.desk.lifecycle import confirm_resolution, rate, reopen, transition
from frontline.desk.models import Attachment, Category, SeverityLevel, Tag, Ticket
from frontline.desk.states import Channel, EventKind, Severity, TicketStatus, Tier
from frontline.sites.models import Asset, Project, Site

TITLE_LIMIT = 200
TAG_LIMIT = 50
MAX_TAGS = 20
UPDATABLE = (
    "title",
    "description",
    "severity",
    "category",
    "tags",
    "team",
    "tier",
    "project",
    "site",
    "asset",
    "contact",
)
# Severities a customer may pick when no SeverityLevel row says otherwise.
CUSTOMER_DEFAULT_SEVERITIES = frozenset({Severity.S3, Severity.S4})

Errors = dict[str, list[str]]


# ---------------------------------------------------------------- helpers


def _add(errors: Errors, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def _belongs(model, actor, obj, customer_id: int, path: str) -> bool:
    """``obj`` is one of the customer's records and the actor can see it (None → True)."""
    if obj is None:
        return True
    qs = model.objects.filter(pk=obj.pk, **{path: customer_id})
    if is_user(actor):
        qs = qs & model.objects.visible_to(actor)
    return qs.exists()


def _check_places(actor, *, customer_id, project, site, asset, errors: Errors) -> None:
    if not _belongs(Project, actor, project, customer_id, "customer_id"):
        _add(errors, "project", _("No such project of this customer."))
    if not _belongs(Site, actor, site, customer_id, "customer_id"):
        _add(errors, "site", _("No such site of this customer."))
    if not _belongs(Asset, actor, asset, customer_id, "site__customer_id"):
        _add(errors, "asset", _("No such asset of this customer."))
    elif asset is not None and site is not None and asset.site_id != site.pk:
        _add(errors, "asset", _("This asset is not at the chosen site."))


def _check_contact(contact, customer_id, errors: Errors) -> None:
    if contact is None:
        return
    if not contact.is_active or contact.organization_id != customer_id:
        _add(errors, "contact", _("Choose an active person of this customer."))


def _check_team(actor, team, errors: Errors) -> None:
    if team is None:
        return
    visible = Team.objects.visible_to(actor) if is_user(actor) else Team.objects.all()
    # Only our own teams: a customer's or partner's team lead would hear of the ticket
    # (SLA escalations go to the team's lead).
    visible = visible.filter(organization__kind=OrganizationKind.OPERATOR)
    if not team.is_active or not visible.filter(pk=team.pk).exists():
        _add(errors, "team", _("No such team."))


def _check_choice(value, choices, name: str, errors: Errors) -> None:
    if value not in choices:
        _add(errors, name, _("Not a valid choice."))


def _clean_tags(names, errors: Errors) -> list[str]:
    if isinstance(names, str) or not isinstance(names, list | tuple | set | frozenset):
        _add(errors, "tags", _("Give a list of tag names."))
        return []
    cleaned = []
    for raw in names:
        name = " ".join(str(raw).split()) if isinstance(raw, str) else ""
        if not name or len(name) > TAG_LIMIT:
            _add(errors, "tags", _("Each tag is 1 to %(n)d characters.") % {"n": TAG_LIMIT})
            return []
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        _add(errors, "tags", _("At most %(n)d tags.") % {"n": MAX_TAGS})
    return cleaned


def _tags(names: list[str]) -> list[Tag]:
    return [Tag.objects.get_or_create(name=name)[0] for name in names]


def _customer_may_choose(severity: str) -> bool:
    level = SeverityLevel.objects.filter(severity=severity).first()
    if level is None:
        return severity in CUSTOMER_DEFAULT_SEVERITIES
    return level.customer_may_choose


def _intake_owner(team) -> User:
    """Who owns a ticket nobody on our side has handled yet."""
    if team is not None and team.lead_id and access.may_own(team.lead):
        return team.lead
    email = getattr(settings, "DESK_INTAKE_EMAIL", "") or ""
    if email:
        user = User.objects.filter(email__iexact=email).first()
        if user is not None and access.may_own(user):
            return user
    for role in (Role.AGENT, Role.ADMIN):
        user = (
            User.objects.filter(
                is_active=True,
                membership__organization__kind=OrganizationKind.OPERATOR,
                membership__role=role,
            )
            .order_by("pk")
            .first()
        )
        if user is not None and access.may_own(user):
            return user
    raise ValidationFailed(
        _("Nobody can own this ticket: set up an intake person or a service agent first."),
        code="no_owner",
    )


def _existing(customer_id: int, channel: str, external_ref: str) -> Ticket | None:
    if not external_ref:
        return None
    found = Ticket.objects.filter(
        customer_id=customer_id, channel=channel, external_ref=external_ref
    ).first()
    if found is not None:
        found.replayed = True
    return found


# ---------------------------------------------------------------- create


def _who_creates(actor, *, customer, contact, channel, severity, owner, team, tags, category):
    """Apply the customer restrictions; returns (customer, contact, channel)."""
    if is_user(actor) and access.may_work(actor):
        return customer, contact, channel
    if is_user(actor) and actor.has_capability(Cap.SUBMIT_TICKETS):
        org_id = access.customer_org_id(actor)
        if org_id is None:
            raise PermissionDenied()
        errors: Errors = {}
        if customer is not None and customer.pk != org_id:
            _add(errors, "customer", _("You can open tickets only for your own organisation."))
        for name, value in (("owner", owner), ("team", team), ("tags", tags)):
            if value:
                _add(errors, name, _("Customers cannot set this."))
        if contact is not None and contact.pk != actor.pk:
            _add(errors, "contact", _("Customers cannot set this."))
        if not _customer_may_choose(severity):
            _add(errors, "severity", _("Choose a severity offered in the portal."))
        if category is not None and not category.is_active:
            _add(errors, "category", _("No such category."))
        if errors:
            raise ValidationFailed(fields=errors)
        return Organization.objects.get(pk=org_id), actor, Channel.PORTAL
    if actor is None:
        # System intake (email, IoT, scheduled imports) names the customer itself.
        return customer, contact, channel
    raise PermissionDenied()


def _validate_new(actor, *, title, customer, contact, project, site, asset, channel, severity,
                  team, owner, category) -> Errors:  # fmt: skip
    errors: Errors = {}
    if not title:
        _add(errors, "title", _("This field is required."))
    elif len(title) > TITLE_LIMIT:
        _add(errors, "title", _("At most %(n)d characters.") % {"n": TITLE_LIMIT})
    if customer is None or customer.kind != OrganizationKind.CUSTOMER or not customer.is_active:
        _add(errors, "customer", _("Choose an active customer organisation."))
        return errors
    _check_choice(channel, Channel.values, "channel", errors)
    _check_choice(severity, Severity.values, "severity", errors)
    _check_places(
        actor, customer_id=customer.pk, project=project, site=site, asset=asset, errors=errors
    )
    _check_contact(contact, customer.pk, errors)
    _check_team(actor, team, errors)
    if owner is not None:
        if not access.may_own(owner):
            _add(errors, "owner", _("Choose an active colleague who works tickets."))
        elif owner.pk != actor.pk and not access.may_reassign(actor):
            _add(
                errors,
                "owner",
                _("Only dispatchers and managers give a new ticket to someone else."),
            )
    if category is not None and not category.is_active:
        _add(errors, "category", _("No such category."))
    return errors


def create_ticket(
    *,
    actor,
    title,
    description="",
    customer=None,
    contact=None,
    project=None,
    site=None,
    asset=None,
    channel=Channel.PORTAL,
    category=None,
    tags=(),
    severity=Severity.S3,
    team=None,
    owner=None,
    external_ref="",
    files=(),
) -> Ticket:
    """Open a ticket; with an ``external_ref`` already seen for this customer and channel,
    return that ticket instead (``ticket.replayed`` is then True).

    A customer opens tickets for their own organisation through the portal, as the
    contact, at a severity the portal offers; they cannot set owner, team or tags. Staff
    taking a phone call or email become the owner at once (or give it to ``owner`` when
    they may reassign). Otherwise the team's lead, the intake person
    (``settings.DESK_INTAKE_EMAIL``) or the first service agent owns it until someone
    handles it.
    """
    customer, contact, channel = _who_creates(
        actor,
        customer=customer,
        contact=contact,
        channel=channel,
        severity=severity,
        owner=owner,
        team=team,
        tags=tags,
        category=category,
    )
    title = " ".join(str(title or "").split())
    external_ref = str(external_ref or "").strip()
    if asset is not None and site is None:
        site = asset.site
    errors = _validate_new(
        actor, title=title, customer=customer, contact=contact, project=project, site=site,
        asset=asset, channel=channel, severity=severity, team=team, owner=owner, category=category,
    )  # fmt: skip
    if len(external_ref) > 200:
        _add(errors, "external_ref", _("At most %(n)d characters.") % {"n": 200})
    tag_names = _clean_tags(list(tags or ()), errors)
    if errors:
        raise ValidationFailed(fields=errors)
    checked = uploads.check_files(files)
    staff_creator = is_user(actor) and access.may_work(actor)

    with stored_files.atomic():
        existing = _existing(customer.pk, channel, external_ref)
        if existing is not None:
            return existing
        now = timezone.now()
        handler = owner or (actor if staff_creator and access.may_own(actor) else None)
        ticket = Ticket(
            number=f"tmp-{uuid.uuid4().hex[:16]}",
            title=title,
            description=clean_body(description, field="description", required=False),
            customer=customer,
            contact=contact,
            project=project,
            site=site,
            asset=asset,
            channel=channel,
            category=category,
            severity=severity,
            team=team,
            tier=Tier.L1,
            owner=handler or _intake_owner(team),
            first_handled_at=now if handler else None,
            created_by=actor if is_user(actor) else None,
            external_ref=external_ref,
        )
        try:
            with transaction.atomic():
                ticket.save()
        except IntegrityError:
            # Another request with the same external reference won the race.
            existing = _existing(customer.pk, channel, external_ref)
            if existing is None:
                raise
            return existing
        ticket.number = f"T-{ticket.pk:06d}"
        ticket.save(update_fields=["number"])
        if tag_names:
            ticket.tags.set(_tags(tag_names))
        event = record_event(
            ticket=ticket,
            kind=EventKind.CREATED,
            author=actor,
            public=True,
            data={"channel": channel, "severity": severity, "owner": ticket.owner_id},
        )
        if checked:
            _store(actor=actor, ticket=ticket, checked=checked, public=True, event=event)
        recompute_sla(ticket)
        tell(
            recipients=[ticket.owner],
            actor=actor,
            kind="ticket_created",
            title=format_lazy(
                _("New ticket {number}: {title}"), number=ticket.number, title=ticket.title
            ),  # fmt: skip
            event=event,
            body=ticket.description,
        )
    return ticket


# ---------------------------------------------------------------- first handling


def take_ticket(*, actor, ticket) -> Ticket:
    """Take a ticket nobody has handled yet; after that only a hand-off moves it."""
    require_staff(actor)
    if not access.may_own(actor):
        raise PermissionDenied()
    with transaction.atomic():
        ticket = locked(ticket)
        if ticket.first_handled_at is not None:
            if ticket.owner_id == actor.pk:
                return ticket
            raise Conflict(
                format_lazy(
                    _("Already handled by {owner}; ask them for a hand-off."),
                    owner=ticket.owner,
                ),
                code="already_handled",
            )
        handle_first(actor=actor, ticket=ticket)
    return ticket


# ---------------------------------------------------------------- replies and notes


def reply(*, actor, ticket, body, files=()):
    """A public reply, by staff or by the ticket's customer. Returns the REPLY event."""
    with stored_files.atomic():
        ticket = locked(ticket)
        require_staff_or_customer(actor, ticket)
        staff = access.may_work(actor)
        text = clean_body(body)
        checked = uploads.check_files(files)
        if not staff and ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("This ticket is closed; reopen it to continue."), code="ticket_closed")
        sla_matters = False
        if staff:
            handle_first(actor=actor, ticket=ticket)
            if ticket.first_responded_at is None:
                ticket.first_responded_at = timezone.now()
                save(ticket, ["first_responded_at"])
                sla_matters = True
        event = record_event(
            ticket=ticket, kind=EventKind.REPLY, author=actor, public=True, body=text
        )
        if checked:
            _store(actor=actor, ticket=ticket, checked=checked, public=True, event=event)
        if not staff and ticket.status == TicketStatus.WAITING_CUSTOMER:
            change_status(
                actor=actor, ticket=ticket, to_status=TicketStatus.IN_PROGRESS, via="reply"
            )
            sla_matters = True
        if sla_matters:
            recompute_sla(ticket)
        _tell_reply(actor=actor, ticket=ticket, event=event, by_staff=staff)
    return event


def _tell_reply(*, actor, ticket, event, by_staff: bool) -> None:
    people = watchers_and_contact(ticket)
    if not by_staff:
        people.append(ticket.owner)
    staff, customers = staff_and_customers(people)
    title = format_lazy(_("New reply on {number}: {title}"), number=ticket.number,
                        title=ticket.title)  # fmt: skip
    for group, for_customer in ((staff, False), (customers, True)):
        tell(recipients=group, actor=actor, kind="ticket_reply", title=title, event=event,
             body=event.body, customers=for_customer)  # fmt: skip


def add_note(*, actor, ticket, body, files=()):
    """An internal note (never shown to the customer). Returns the NOTE event."""
    require_staff(actor)
    with stored_files.atomic():
        ticket = locked(ticket)
        text = clean_body(body)
        checked = uploads.check_files(files)
        handle_first(actor=actor, ticket=ticket)
        event = record_event(ticket=ticket, kind=EventKind.NOTE, author=actor, body=text)
        if checked:
            _store(actor=actor, ticket=ticket, checked=checked, public=False, event=event)
    return event


# ---------------------------------------------------------------- details


def _validate_update(actor, ticket: Ticket, changes: dict, errors: Errors) -> None:
    if "title" in changes:
        changes["title"] = " ".join(str(changes["title"] or "").split())
        if not changes["title"] or len(changes["title"]) > TITLE_LIMIT:
            _add(errors, "title", _("1 to %(n)d characters.") % {"n": TITLE_LIMIT})
    if "description" in changes:
        changes["description"] = clean_body(
            changes["description"], field="description", required=False
        )
    if "severity" in changes:
        _check_choice(changes["severity"], Severity.values, "severity", errors)
    if "tier" in changes:
        _check_choice(changes["tier"], Tier.values, "tier", errors)
    if "team" in changes:
        _check_team(actor, changes["team"], errors)
    category = changes.get("category")
    if category is not None and (not isinstance(category, Category) or not category.is_active):
        _add(errors, "category", _("No such category."))
    if "contact" in changes:
        _check_contact(changes["contact"], ticket.customer_id, errors)
    place = {k: changes.get(k, getattr(ticket, k)) for k in ("project", "site", "asset")}
    if any(k in changes for k in place):
        _check_places(actor, customer_id=ticket.customer_id, errors=errors, **place)


def update_ticket(*, actor, ticket, **changes) -> Ticket:
    """Change a ticket's details (staff); one FIELDS event lists old → new."""
    require_staff(actor)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )
    errors: Errors = {}
    tag_names = _clean_tags(changes.pop("tags"), errors) if "tags" in changes else None
    with transaction.atomic():
        ticket = locked(ticket)
        _validate_update(actor, ticket, changes, errors)
        if errors:
            raise ValidationFailed(fields=errors)
        diff = audit.apply_changes(ticket, changes)
        if tag_names is not None:
            old_tags = list(ticket.tags.all())
            new_tags = _tags(tag_names)
            tag_diff = audit.m2m_diff("tags", old_tags, new_tags)
            if tag_diff:
                ticket.tags.set(new_tags)
                diff |= tag_diff
        if not diff:
            return ticket
        save(ticket, [n for n in diff if n != "tags"])
        record_event(ticket=ticket, kind=EventKind.FIELDS, author=actor, data={"changes": diff})
        if {"severity", "project"} & set(diff):
            recompute_sla(ticket)
    return ticket


# ---------------------------------------------------------------- watchers and files


def watch(*, actor, ticket, watching=True) -> Ticket:
    """Follow (or stop following) a ticket's public replies."""
    if not is_user(actor) or not (
        access.is_desk_staff(actor) or access.is_ticket_customer(actor, ticket)
    ):
        raise PermissionDenied()
    with transaction.atomic():
        ticket = locked(ticket)
        already = ticket.watchers.filter(pk=actor.pk).exists()
        if bool(watching) == already:
            return ticket
        if watching:
            ticket.watchers.add(actor)
        else:
            ticket.watchers.remove(actor)
        record_event(
            ticket=ticket,
            kind=EventKind.WATCHER,
            author=actor,
            data={"user": actor.pk, "watching": bool(watching)},
        )
    return ticket


def _store(*, actor, ticket, checked, public: bool, event) -> list[Attachment]:
    stored = []
    for item in checked:
        attachment = Attachment(
            ticket=ticket,
            event=event,
            name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            public=public,
            uploaded_by=actor if is_user(actor) else None,
        )
        # The storage key comes from desk.models.attachment_key, never from the upload's name.
        stored_files.save(attachment.file, "upload", item.upload)
        attachment.save()
        stored.append(attachment)
    return stored


def attach_files(*, actor, ticket, files, public=True) -> list[Attachment]:
    """Attach checked files; a customer's files are always public, staff choose."""
    with stored_files.atomic():
        ticket = locked(ticket)
        require_staff_or_customer(actor, ticket)
        public = bool(public) if access.may_work(actor) else True
        checked = uploads.check_files(files)
        if not checked:
            raise ValidationFailed(fields={"files": [_("Choose at least one file.")]})
        event = record_event(
            ticket=ticket,
            kind=EventKind.ATTACHMENT,
            author=actor,
            public=public,
            data={"files": [c.name for c in checked]},
        )
        return _store(actor=actor, ticket=ticket, checked=checked, public=public, event=event)


__all__ = [
    "accept_hand_off",
    "add_note",
    "attach_files",
    "cancel_hand_off",
    "confirm_resolution",
    "create_ticket",
    "decline_hand_off",
    "rate",
    "reassign",
    "reopen",
    "reply",
    "request_hand_off",
    "take_ticket",
    "transition",
    "update_ticket",
    "watch",
]
