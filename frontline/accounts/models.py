"""People and organisations: users, organisations, memberships, teams, API tokens, skills."""

from __future__ import annotations

import zoneinfo
from functools import cached_property

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.roles import ROLES_BY_KIND, OrganizationKind, Role, capabilities_for

TIME_ZONES = sorted(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("Unknown time zone: %(tz)s."), params={"tz": value[:50]}, code="time_zone"
        )


class LanguageChoice(models.TextChoices):
    BROWSER = "", _("Same as browser")
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


# ---------------------------------------------------------------- organisations


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_operator_staff:
            return self
        if user.organization_id is None:
            return self.none()
        # Everyone knows who the operator is (it serves them) and their own organisation.
        return self.filter(
            models.Q(pk=user.organization_id) | models.Q(kind=OrganizationKind.OPERATOR)
        )


class Organization(models.Model):
    """A company: the operator (exactly one per deployment), its customers, partner outlets and suppliers."""

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganizationKind.choices)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="operator"), name="org_single_operator"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganizationKind.values), name="org_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["kind", "name"], name="org_kind_name_idx")]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- users


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.has_capability("view_directory"):
            return self
        if user.organization_id is None:
            return self.filter(pk=user.pk)
        return self.filter(
            models.Q(membership__organization_id=user.organization_id) | models.Q(pk=user.pk)
        )


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_queryset(self):
        # Every request needs the user's organisation and role: load them with the user.
        return super().get_queryset().select_related("membership__organization")

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    display_name = models.CharField(_("display name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=LanguageChoice.choices,
        blank=True,
        default="",
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["display_name", "id"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    # -- organisation and role, loaded with the user by the manager

    @cached_property
    def _membership(self):
        try:
            return self.membership
        except Membership.DoesNotExist:
            return None

    @property
    def organization(self) -> Organization | None:
        m = self._membership
        return m.organization if m else None

    @property
    def organization_id(self) -> int | None:
        m = self._membership
        return m.organization_id if m else None

    @property
    def role(self) -> str | None:
        m = self._membership
        return m.role if m else None

    @property
    def is_operator_staff(self) -> bool:
        if self.is_superuser:
            return True
        m = self._membership
        return bool(m and m.organization.kind == OrganizationKind.OPERATOR)

    @property
    def capabilities(self) -> frozenset[str]:
        if self.is_superuser:
            return capabilities_for(Role.ADMIN)
        return capabilities_for(self.role)

    def has_capability(self, capability: str) -> bool:
        return self.is_active and capability in self.capabilities


# ---------------------------------------------------------------- memberships


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.has_capability("view_directory"):
            return self
        if user.organization_id is None:
            return self.none()
        return self.filter(organization_id=user.organization_id)


class Membership(models.Model):
    """A user's place in one organisation, with one role."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization__name", "user__display_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            )
        ]
        indexes = [models.Index(fields=["organization", "role"], name="membership_org_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"

    def clean(self):
        if self.organization_id and self.role not in ROLES_BY_KIND[self.organization.kind]:
            raise ValidationError(
                {
                    "role": _("A %(kind)s organisation cannot have the role %(role)s.")
                    % {"kind": self.organization.get_kind_display(), "role": self.role}
                }
            )


# ---------------------------------------------------------------- teams


class DispatchMode(models.TextChoices):
    ASSIGN = "assign", _("Dispatcher assigns")
    GRAB = "grab", _("Engineers grab")
    AUTO = "auto", _("Automatic (rules and optimiser)")


class TeamQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False) or not user.has_capability("view_teams"):
            return self.none()
        if user.is_operator_staff:
            return self
        return self.filter(organization_id=user.organization_id)


class Team(models.Model):
    """A group of people who share a queue; ``dispatch_mode`` says how field work reaches them."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="teams", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    lead = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        verbose_name=_("lead"),
    )
    members = models.ManyToManyField(
        User, blank=True, related_name="teams", verbose_name=_("members")
    )
    dispatch_mode = models.CharField(
        _("dispatch mode"), max_length=16, choices=DispatchMode.choices, default=DispatchMode.ASSIGN
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="team_name_unique_per_org"
            ),
            models.CheckConstraint(
                condition=models.Q(dispatch_mode__in=DispatchMode.values),
                name="team_dispatch_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:team-detail", args=[self.pk])


# ---------------------------------------------------------------- skills


class SkillQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if getattr(user, "is_authenticated", False) else self.none()


class Skill(models.Model):
    """A skill an engineer can hold (HVAC, high-voltage, boilers …); levels live on EngineerSkill."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    requires_certification = models.BooleanField(
        _("requires a valid certification"),
        default=False,
        help_text=_("Engineers hold this skill only while a certification for it is valid."),
    )

    objects = SkillQuerySet.as_manager()

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EngineerSkillQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A skill row is visible with the person it belongs to."""
        return self.filter(user__in=User.objects.visible_to(user).values("pk"))


class EngineerSkill(models.Model):
    """How well one engineer masters one skill (level 1–5)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="skills", verbose_name=_("engineer")
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="holders", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        _("level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    objects = EngineerSkillQuerySet.as_manager()

    class Meta:
        verbose_name = _("engineer skill")
        verbose_name_plural = _("engineer skills")
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="engineer_skill_unique"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="engineer_skill_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} L{self.level}"


# ---------------------------------------------------------------- API tokens


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiTokenQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)

    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token for programs. Only a SHA-256 hash is stored; the token is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="apitoken_expires_idx")]

    def __str__(self) -> str:
        return f"{self.name} (fl_{self.prefix}_…)"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
