"""Work orders, their append-only timeline, checklist, photos, offers and public links."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Skill, Team, User
from frontline.field.models.scoping import is_field_staff, scope_work
from frontline.field.states import (
    ChecklistResult,
    DispatchVia,
    EventKind,
    OfferStatus,
    Priority,
    WorkOrderStatus,
    WorkOrderType,
)
from frontline.sites.models import Asset, Project, Site


class WorkOrderQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_work(self, user)


class WorkOrder(models.Model):
    """A visit to do on site: dispatched, grabbed or planned, then done and signed for."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    type = models.CharField(
        _("type"), max_length=24, choices=WorkOrderType.choices, default=WorkOrderType.REPAIR
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, help_text=_("Sanitised HTML."))
    ticket = models.ForeignKey(
        "desk.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("ticket"),
    )
    customer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="customer_work_orders",
        verbose_name=_("customer"),
        db_index=False,
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("project"),
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("site")
    )
    asset = models.ForeignKey(
        Asset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("asset"),
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    estimated_minutes = models.PositiveIntegerField(
        _("estimated duration (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    window_start = models.DateTimeField(_("appointment from"), null=True, blank=True)
    window_end = models.DateTimeField(_("appointment until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=WorkOrderStatus.choices, default=WorkOrderStatus.NEW
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
        verbose_name=_("engineer"),
        db_index=False,
    )
    partner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partner_work_orders",
        verbose_name=_("partner outlet"),
    )
    dispatched_via = models.CharField(
        _("dispatched by"), max_length=10, choices=DispatchVia.choices, blank=True
    )
    revisit_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisits",
        verbose_name=_("revisit of"),
    )
    # Planned by the optimiser or the dispatcher: the day's order and expected arrival.
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    route_position = models.PositiveSmallIntegerField(_("position in route"), null=True, blank=True)
    eta = models.DateTimeField(_("ETA"), null=True, blank=True)
    # On site
    started_travel_at = models.DateTimeField(_("left for site"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    check_in_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField(
        _("check-in distance from site (m)"), null=True, blank=True
    )
    check_in_flagged = models.BooleanField(
        _("checked in far from the site"), default=False, db_index=False
    )
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    check_out_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_out_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # Completion
    resolution_code = models.CharField(_("resolution code"), max_length=40, blank=True)
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    parts_used = models.TextField(_("parts used"), blank=True)
    first_time_fix = models.BooleanField(_("fixed on the first visit"), null=True, blank=True)
    signature = models.FileField(_("customer signature"), upload_to="field/signatures/", blank=True)
    signed_by = models.CharField(_("signed by"), max_length=120, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=WorkOrderStatus.values),
                name="work_order_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True)
                | models.Q(window_end__isnull=True)
                | models.Q(window_end__gt=models.F("window_start")),
                name="work_order_window_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="wo_created_idx"),
            models.Index(fields=["status", "window_start"], name="wo_queue_idx"),
            models.Index(fields=["assignee", "status"], name="wo_assignee_status_idx"),
            models.Index(fields=["customer", "status"], name="wo_customer_status_idx"),
            models.Index(fields=["assignee", "planned_start"], name="wo_assignee_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("field:work-order-detail", args=[self.pk])


class WorkOrderSkillQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_work(self, user, "work_order__")


class WorkOrderSkill(models.Model):
    """A skill the work needs, at a minimum level (hard constraint for dispatch)."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="required_skills"
    )
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    min_level = models.PositiveSmallIntegerField(
        _("minimum level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    objects = WorkOrderSkillQuerySet.as_manager()

    class Meta:
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")
        constraints = [
            models.UniqueConstraint(fields=["work_order", "skill"], name="wo_skill_unique"),
            models.CheckConstraint(
                condition=models.Q(min_level__gte=1, min_level__lte=5), name="wo_skill_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} ≥ L{self.min_level}"


class WorkOrderEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        qs = scope_work(self, user, "work_order__")
        return qs if is_field_staff(user) else qs.filter(public=True)


class WorkOrderEvent(models.Model):
    """One entry of a work order's timeline, with a position where one was given.

    Append-only: corrections are new events. ``public`` events are what the customer
    sees on its timeline (status, appointment, engineer, ETA).
    """

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    public = models.BooleanField(_("visible to the customer"), default=False)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    occurred_at = models.DateTimeField(
        _("done on the device at"),
        null=True,
        blank=True,
        help_text=_("The phone's time for work synced from offline; empty when done online."),
    )

    objects = WorkOrderEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("work order event")
        verbose_name_plural = _("work order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["work_order", "created_at"], name="wo_event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.work_order.number} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Work order events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Work order events are append-only")

    @property
    def when(self):
        """When it happened: the device's time for offline work, else the server's. The
        timeline stays in the order the server received (``created_at``, ``id``)."""
        return self.occurred_at or self.created_at


class ChecklistItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_work(self, user, "work_order__")


class ChecklistItem(models.Model):
    """One line of the on-site checklist, copied from the type's template at creation."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label = models.CharField(_("item"), max_length=200)
    result = models.CharField(
        _("result"), max_length=8, choices=ChecklistResult.choices, default=ChecklistResult.PENDING
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    checked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class ChecklistTemplateQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_field_staff(user) else self.none()


class ChecklistTemplate(models.Model):
    """The checklist every new work order of a type starts with (one item per line)."""

    type = models.CharField(_("type"), max_length=24, choices=WorkOrderType.choices, unique=True)
    items = models.TextField(_("items"), help_text=_("One checklist item per line."))

    objects = ChecklistTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["type"]

    def __str__(self) -> str:
        return self.get_type_display()

    def lines(self) -> list[str]:
        return [line.strip() for line in self.items.splitlines() if line.strip()][:50]


def photo_key(instance, filename: str) -> str:
    # Stored under a generated key: the uploaded name never touches the file system.
    return f"field/{instance.work_order_id}/{uuid.uuid4().hex}"


class WorkOrderPhotoQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_work(self, user, "work_order__")


class WorkOrderPhoto(models.Model):
    """A photo from the engineer's camera, checked by content; idempotent by client id."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=photo_key)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    taken_at = models.DateTimeField(
        _("taken at"), null=True, blank=True, help_text=_("The phone's time, for a synced photo.")
    )

    objects = WorkOrderPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class GrabOfferQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every offer; an engineer only the offers made to them."""
        if is_field_staff(user):
            return self
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = WorkOrder.objects.visible_to(user).values("pk")
        return self.filter(work_order__in=visible, recipients=user)


class GrabOffer(models.Model):
    """Work offered to eligible engineers; the first valid claim wins, atomically."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN
    )
    recipients = models.ManyToManyField(
        User, related_name="grab_offers", verbose_name=_("offered to")
    )
    radius_km = models.PositiveIntegerField(_("radius (km)"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    claimed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GrabOfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("grab offer")
        verbose_name_plural = _("grab offers")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one open offer per work order.
            models.UniqueConstraint(
                fields=["work_order"],
                condition=models.Q(status="open"),
                name="grab_offer_one_open",
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="grab_offer_sweep_idx")]

    def __str__(self) -> str:
        return f"{self.work_order.number} ({self.status})"


class PublicLinkQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_field_staff(user) else self.none()


class PublicLink(models.Model):
    """A tokenised link that needs no login: the customer's timeline with ETA, or a survey.

    Only the SHA-256 of the token is stored; the token is shown once (in the email).
    """

    class Purpose(models.TextChoices):
        TIMELINE = "timeline", _("Customer timeline")
        SURVEY = "survey", _("Survey")

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PublicLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("public link")
        verbose_name_plural = _("public links")

    def __str__(self) -> str:
        return f"{self.work_order.number} {self.purpose}"


class SurveyQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_work(self, user, "work_order__")


class Survey(models.Model):
    """The customer's answer after a work order closed: CSAT 1–5, NPS 0–10, a comment."""

    work_order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="survey")
    engineer = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("engineer"),
    )
    csat = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("recommendation (0–10)"), validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    submitted_at = models.DateTimeField(auto_now_add=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__gte=1, csat__lte=5), name="survey_csat_range"
            ),
            models.CheckConstraint(condition=models.Q(nps__lte=10), name="survey_nps_range"),
        ]
        indexes = [models.Index(fields=["engineer", "-submitted_at"], name="survey_engineer_idx")]

    def __str__(self) -> str:
        return f"{self.work_order.number} CSAT {self.csat} NPS {self.nps}"
