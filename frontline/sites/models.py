"""Where service happens: customer sites, service contracts (projects), equipment (assets)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, validate_time_zone


def _customer_scoped(qs: models.QuerySet, user, customer_path: str) -> models.QuerySet:
    """Operator staff see every customer's records; a customer only its own; others nothing (yet)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.has_capability("view_all_customers"):
        return qs
    org = user.organization
    # A deactivated customer organisation sees nothing until it is active again.
    if org is not None and org.kind == "customer" and org.is_active:
        return qs.filter(**{customer_path: org.pk})
    # Partners will see what is dispatched to them once field service exists; nothing yet.
    return qs.none()


class SiteQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _customer_scoped(self, user, "customer_id")


class Site(models.Model):
    """A customer's location where we deliver service (a plant, a data centre, a building)."""

    customer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="sites", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    notes = models.TextField(_("access notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "name"], name="site_name_unique_per_customer"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
                violation_error_message=_("Latitude must be between -90 and 90."),
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
                violation_error_message=_("Longitude must be between -180 and 180."),
            ),
            models.CheckConstraint(
                condition=(models.Q(latitude__isnull=True) & models.Q(longitude__isnull=True))
                | (models.Q(latitude__isnull=False) & models.Q(longitude__isnull=False)),
                name="site_coordinates_both_or_neither",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
        ]
        indexes = [models.Index(fields=["customer", "name"], name="site_customer_name_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sites:site-detail", args=[self.pk])


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _customer_scoped(self, user, "customer_id")


class Project(models.Model):
    """A service contract with a customer, covering some of its sites for a period."""

    customer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="projects", verbose_name=_("customer")
    )
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    sites = models.ManyToManyField(
        Site, blank=True, related_name="projects", verbose_name=_("sites")
    )
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contract_start__isnull=True)
                | models.Q(contract_end__isnull=True)
                | models.Q(contract_end__gte=models.F("contract_start")),
                name="project_contract_dates_ordered",
                violation_error_message=_("The contract cannot end before it starts."),
            )
        ]
        indexes = [
            models.Index(fields=["customer", "is_active"], name="project_customer_active_idx")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("sites:project-detail", args=[self.pk])


class AssetCategory(models.TextChoices):
    CHILLER = "chiller", _("Chiller")
    COOLING_TOWER = "cooling_tower", _("Cooling tower")
    AIR_HANDLER = "air_handler", _("Air handling unit")
    BOILER = "boiler", _("Boiler")
    TRANSFORMER = "transformer", _("Transformer")
    SWITCHGEAR = "switchgear", _("Switchgear")
    UPS = "ups", _("UPS")
    GENERATOR = "generator", _("Generator")
    PUMP = "pump", _("Pump")
    CRAC = "crac", _("Precision air conditioner")
    OTHER = "other", _("Other")


class AssetModelQuerySet(models.QuerySet):
    def visible_to(self, user):
        # The catalogue of makes and models is not confidential.
        return self if getattr(user, "is_authenticated", False) and user.is_active else self.none()


class AssetModel(models.Model):
    """A make and model of equipment (e.g. Carrier 30XW-1252 chiller)."""

    manufacturer = models.CharField(_("manufacturer"), max_length=100)
    model = models.CharField(_("model"), max_length=100)
    category = models.CharField(_("category"), max_length=32, choices=AssetCategory.choices)
    description = models.TextField(_("description"), blank=True)

    objects = AssetModelQuerySet.as_manager()

    class Meta:
        verbose_name = _("asset model")
        verbose_name_plural = _("asset models")
        ordering = ["manufacturer", "model"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "model"], name="asset_model_unique"),
            models.CheckConstraint(
                condition=models.Q(category__in=AssetCategory.values),
                name="asset_model_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model}"


class AssetStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    STANDBY = "standby", _("Standby")
    FAULTY = "faulty", _("Faulty")
    UNDER_MAINTENANCE = "under_maintenance", _("Under maintenance")
    RETIRED = "retired", _("Retired")


# Which status an asset may move to from each status. Retired equipment stays retired:
# a replacement is a new asset, so its history is not mixed with the old one's.
ASSET_STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    **{
        status: frozenset(set(AssetStatus.values) - {status})
        for status in AssetStatus.values
        if status != AssetStatus.RETIRED
    },
    AssetStatus.RETIRED: frozenset(),
}


class AssetQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _customer_scoped(self, user, "site__customer_id")


class Asset(models.Model):
    """A piece of equipment at a site, optionally part of a larger asset."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="assets", verbose_name=_("site")
    )
    model = models.ForeignKey(
        AssetModel, on_delete=models.PROTECT, related_name="assets", verbose_name=_("model")
    )
    name = models.CharField(_("name"), max_length=200)
    serial = models.CharField(_("serial number"), max_length=100)
    location = models.CharField(_("location"), max_length=200, blank=True)
    installed_on = models.DateField(_("installed"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("part of"),
    )
    status = models.CharField(
        _("status"), max_length=32, choices=AssetStatus.choices, default=AssetStatus.IN_SERVICE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "serial"], name="asset_serial_unique_per_model"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AssetStatus.values), name="asset_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="asset_not_own_parent",
                violation_error_message=_("An asset cannot be part of itself."),
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status"], name="asset_site_status_idx"),
            models.Index(fields=["serial"], name="asset_serial_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"

    def get_absolute_url(self) -> str:
        return reverse("sites:asset-detail", args=[self.pk])
