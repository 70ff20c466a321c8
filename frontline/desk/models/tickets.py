"""Tickets, their append-only timeline, attachments, hand-offs and SLA pauses."""

from __future__ import annotations

import uuid

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Team, User
from frontline.desk.models.config import Category, SlaPolicy, Tag
from frontline.desk.models.scoping import is_desk_staff, scope_by_customer
from frontline.desk.states import (
    Channel,
    EventKind,
    HandOffStatus,
    Severity,
    SlaState,
    TicketStatus,
    Tier,
)
from frontline.sites.models import Asset, Project, Site


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Operator staff see every ticket; a customer only its organisation's; others none."""
        return scope_by_customer(self, user, "customer_id")


class Ticket(models.Model):
    """A customer's problem, owned by exactly one person until someone explicitly takes it over."""

    # Unique by a constraint in Meta, not unique=True: that would add a second,
    # varchar_pattern_ops index for LIKE 'x%', which no query uses (search is icontains).
    number = models.CharField(_("number"), max_length=20, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, help_text=_("Sanitised HTML."))
    # customer, team and owner: no index of their own, the composite indexes below
    # lead with them (each index is one more write per SLA sweep update).
    customer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
        db_index=False,
    )
    # contact, site, asset, category, created_by and problem are often empty: indexed
    # only where set (partial indexes in Meta), so an empty one costs no index entry.
    contact = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_tickets",
        verbose_name=_("contact"),
        db_index=False,
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("project"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("site"),
        db_index=False,
    )
    asset = models.ForeignKey(
        Asset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("asset"),
        db_index=False,
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.PORTAL
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("category"),
        db_index=False,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    severity = models.CharField(
        _("severity"), max_length=2, choices=Severity.choices, default=Severity.S3
    )
    status = models.CharField(
        _("status"), max_length=24, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("team"),
        db_index=False,
    )
    tier = models.CharField(_("tier"), max_length=4, choices=Tier.choices, default=Tier.L1)
    # Exactly one owner, always (NOT NULL): whoever first handled the customer's contact.
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="owned_tickets",
        verbose_name=_("owner"),
        db_index=False,
    )
    # NULL until someone on the operator side first handles the contact; until then the
    # owner is the intake owner (team lead or the desk's intake person) and the first
    # handler takes the ticket over at once. After that only a hand-off or a reassignment moves it.
    first_handled_at = models.DateTimeField(_("first handled"), null=True, blank=True)
    watchers = models.ManyToManyField(
        User, blank=True, related_name="watched_tickets", verbose_name=_("watchers")
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        related_name="created_tickets",
        verbose_name=_("created by"),
        db_index=False,
    )
    problem = models.ForeignKey(
        "desk.Problem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("problem"),
        db_index=False,
    )
    # Set for tickets that came from outside (email Message-ID, API Idempotency-Key, IoT event id).
    external_ref = models.CharField(_("external reference"), max_length=200, blank=True)

    # SLA: deadlines are stored, recomputed by desk.sla on every relevant event.
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("SLA policy"),
    )
    sla_state = models.CharField(
        _("SLA state"), max_length=10, choices=SlaState.choices, default=SlaState.NONE
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    sla_warning_at = models.DateTimeField(_("SLA warning at"), null=True, blank=True)
    # The next moment the sweep must look at this ticket (warning or breach); NULL when
    # nothing is pending. Not indexed: the sweep finds due tickets through SlaClock,
    # which holds the same moment (so a warning's update of this row can be HOT).
    sla_next_check_at = models.DateTimeField(null=True, blank=True)
    sla_warned_at = models.DateTimeField(_("SLA warned"), null=True, blank=True)
    sla_breached_at = models.DateTimeField(_("SLA breached"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    fire_open = models.BooleanField(_("fire called"), default=False)
    had_fire_call = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)

    # Indexed with the id by ticket_created_idx (the lists' order), not on its own.
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=TicketStatus.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="ticket_severity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="ticket_rating_range",
            ),
            models.UniqueConstraint(
                fields=["customer", "channel", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="ticket_external_ref_unique",
            ),
        ]
        # No index covers a column the SLA sweep changes on a warning (sla_state,
        # sla_warned_at, sla_next_check_at): with room left on each page (fillfactor
        # 90, migration desk.0005) that update is HOT, i.e. no index gets a new entry.
        # The sweep finds due tickets through SlaClock. A breach moves sla_breached_at
        # (ticket_breached_idx), so its update writes every index: add one only for a
        # query that needs it.
        # The lists order by (-created_at, -id); their indexes end with it, so a page is
        # read in order and stops after 50 rows instead of sorting every match.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            models.Index(
                fields=["customer", "-created_at", "-id"], name="ticket_customer_created_idx"
            ),
            models.Index(
                fields=["team", "status", "-created_at", "-id"], name="ticket_team_created_idx"
            ),
            # Breached tickets of a team and status (the escalation queue), counted and
            # paged without reading the rows that never breached.
            models.Index(
                fields=["team", "status", "-created_at", "-id"],
                condition=models.Q(sla_breached_at__isnull=False),
                name="ticket_breached_idx",
            ),
            models.Index(fields=["status", "severity"], name="ticket_status_sev_idx"),
            models.Index(fields=["owner", "status"], name="ticket_owner_status_idx"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status_idx"),
            *(
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"ticket_{name}_set_idx",
                )
                for name in ("contact", "site", "asset", "category", "created_by", "problem")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("desk:ticket-detail", args=[self.pk])


class TicketEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        qs = scope_by_customer(self, user, "ticket__customer_id")
        return qs if is_desk_staff(user) else qs.filter(public=True)


class TicketEvent(models.Model):
    """One entry of a ticket's timeline. Append-only: corrections are new events."""

    # Indexed by ticket_event_timeline_idx, which leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    public = models.BooleanField(_("visible to the customer"), default=False)
    # Indexed only where set (ticket_event_author_idx): system events, the SLA sweep's
    # thousands a minute among them, have no author and no index entry to write.
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    body = models.TextField(_("text"), blank=True, help_text=_("Sanitised HTML."))
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticket_event_timeline_idx"),
            models.Index(
                fields=["author"],
                condition=models.Q(author__isnull=False),
                name="ticket_event_author_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ticket events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ticket events are append-only")


def attachment_key(instance, filename: str) -> str:
    # Stored under a generated key: the uploaded name never touches the file system.
    return f"desk/{instance.ticket_id}/{uuid.uuid4().hex}"


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        qs = scope_by_customer(self, user, "ticket__customer_id")
        return qs if is_desk_staff(user) else qs.filter(public=True)


class Attachment(models.Model):
    """A file on a ticket; type checked by content, size-limited, always served as a download."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_key, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    public = models.BooleanField(_("visible to the customer"), default=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class HandOffQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_desk_staff(user) else self.none()


class HandOff(models.Model):
    """A request to take a ticket over: the old owner stays owner until the new one accepts."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="hand_offs")
    from_user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="hand_offs_to", verbose_name=_("to")
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=HandOffStatus.choices, default=HandOffStatus.REQUESTED
    )
    message = models.TextField(_("message"), blank=True)
    reason = models.TextField(_("reason for declining"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = HandOffQuerySet.as_manager()

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one pending request per ticket.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(status="requested"),
                name="hand_off_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["to_user", "status"], name="hand_off_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.from_user} → {self.to_user} ({self.status})"


class SlaPauseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_desk_staff(user) else self.none()


class SlaPause(models.Model):
    """A stretch during which the SLA clock stood still (waiting on the customer or a third party)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=24, choices=TicketStatus.choices)

    objects = SlaPauseQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(ended_at__isnull=True),
                name="sla_pause_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.started_at:%Y-%m-%d %H:%M} → {self.ended_at or '…'}"
