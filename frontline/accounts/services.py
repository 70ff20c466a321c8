"""Verbs on people and organisations. Every change is audited; nothing here is called from signals.

Each verb takes keyword arguments, checks who may do it (``frontline.accounts.access``),
validates, re-reads the rows it changes under ``select_for_update`` (a form may have
mutated the instance it was given) and writes one audit entry per changed row.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from frontline.accounts import access, checks
from frontline.accounts.models import (
    DispatchMode,
    Membership,
    Organization,
    Team,
    User,
)
from frontline.accounts.roles import Cap, OrganizationKind, role_fits_kind
from frontline.core import audit
from frontline.core.deletion import erase
from frontline.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    from_django_validation,
)

ORGANIZATION_FIELDS = ("name", "code", "kind", "phone", "email", "address", "is_active")
PROFILE_FIELDS = ("display_name", "phone", "preferred_language", "time_zone")
PROTECTED_USER_FIELDS = ("role", "organization", "is_staff", "is_superuser", "is_active", "email")
TEAM_FIELDS = ("name", "description", "lead", "members", "dispatch_mode", "is_active")
MEMBERSHIP_FIELDS = ("user", "organization", "role")
TEAM_SNAPSHOT_FIELDS = ("organization", "name", "lead", "dispatch_mode", "is_active")

ORGANIZATION_IN_USE = _(
    "This organisation still has people, sites, projects or teams, so it cannot be deleted; "
    "deactivate it instead."
)
MEMBERSHIP_IN_USE = _("This membership is still in use, so it cannot be removed.")
TEAM_IN_USE = _("This team is still in use, so it cannot be deleted; deactivate it instead.")


# ---------------------------------------------------------------- helpers


def _reject_unknown(changes: dict, allowed: Iterable[str]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationFailed(
            fields={name: [_("This field cannot be changed here.")] for name in sorted(unknown)}
        )


def _full_clean(instance, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except DjangoValidationError as exc:
        raise from_django_validation(exc)


def _lock_user(pk: int) -> User:
    # ``of=("self",)``: the manager joins the (nullable) membership, which PostgreSQL cannot lock.
    try:
        return User.objects.select_for_update(of=("self",)).get(pk=pk)
    except User.DoesNotExist:
        raise NotFound()


def _lock(model, pk: int):
    try:
        return model.objects.select_for_update().get(pk=pk)
    except model.DoesNotExist:
        raise NotFound()


# ---------------------------------------------------------------- organisations


def _check_single_operator(kind: str, *, exclude_pk: int | None = None) -> None:
    if kind != OrganizationKind.OPERATOR:
        return
    others = Organization.objects.filter(kind=OrganizationKind.OPERATOR)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationFailed(
            fields={
                "kind": [_("There is already an operator organisation; there can be only one.")]
            }
        )


def create_organization(
    *,
    actor: User,
    name: str,
    code: str,
    kind: str,
    phone: str = "",
    email: str = "",
    address: str = "",
    is_active: bool = True,
) -> Organization:
    """Register a company: a customer, partner outlet or supplier (or the one operator)."""
    if not actor.has_capability(Cap.MANAGE_ORGANIZATIONS):
        raise PermissionDenied()
    org = Organization(
        name=str(name).strip(),
        code=code,
        kind=kind,
        phone=phone,
        email=email,
        address=address,
        is_active=is_active,
    )
    _full_clean(org)
    with transaction.atomic():
        _check_single_operator(kind)
        try:
            with transaction.atomic():
                org.save()
        except IntegrityError:
            raise ValidationFailed(
                fields={"kind": [_("There can be only one operator organisation.")]}
            )
        audit.record(
            actor=actor,
            instance=org,
            action=audit.AuditAction.CREATE,
            changes=audit.snapshot(org, list(ORGANIZATION_FIELDS)),
        )
    return org


def update_organization(*, actor: User, organization: Organization, **changes) -> Organization:
    """Change an organisation's details; its kind only when every member's role still fits."""
    _reject_unknown(changes, ORGANIZATION_FIELDS)
    if not actor.has_capability(Cap.MANAGE_ORGANIZATIONS):
        raise PermissionDenied()
    with transaction.atomic():
        org = _lock(Organization, organization.pk)
        diff = audit.apply_changes(org, changes)
        if not diff:
            return org
        _full_clean(org)
        if "kind" in diff:
            _check_single_operator(org.kind, exclude_pk=org.pk)
            roles = set(org.memberships.values_list("role", flat=True))
            if any(not role_fits_kind(role, org.kind) for role in roles):
                raise ValidationFailed(
                    fields={
                        "kind": [
                            _(
                                "Some members have roles that do not exist in this kind of organisation."
                            )
                        ]
                    }
                )
        org.save(update_fields=list(diff))
        audit.record(actor=actor, instance=org, action=audit.AuditAction.UPDATE, changes=diff)
    return org


def delete_organization(*, actor: User, organization: Organization) -> None:
    """Erase an organisation registered by mistake (operator admins only).

    Never the operator, and never one with people, teams, sites or projects: those are
    deactivated instead. Sites and projects are found by their protected foreign keys,
    so this app does not need to know about them.
    """
    if not access.is_operator_admin(actor):
        raise PermissionDenied()
    with transaction.atomic():
        org = _lock(Organization, organization.pk)
        if org.kind == OrganizationKind.OPERATOR:
            raise PermissionDenied(_("The operator organisation cannot be deleted."))
        if org.memberships.exists() or org.teams.exists():
            raise Conflict(ORGANIZATION_IN_USE, code="organization_in_use")
        erase(
            actor=actor,
            instance=org,
            fields=ORGANIZATION_FIELDS,
            in_use_message=ORGANIZATION_IN_USE,
            in_use_code="organization_in_use",
        )


# ---------------------------------------------------------------- users


def create_user(
    *,
    actor: User,
    email: str,
    display_name: str,
    organization: Organization,
    role: str,
    password: str | None = None,
    phone: str = "",
    preferred_language: str = "",
    time_zone: str = "Asia/Shanghai",
) -> User:
    """Create a person and their membership together, within the actor's role ceiling.

    Without a password the account cannot sign in until the person resets it.
    """
    checks.check_grant(actor, organization, role)
    profile = {
        "display_name": display_name,
        "phone": phone or "",
        "preferred_language": preferred_language or "",
        "time_zone": time_zone,
    }
    checks.validate_profile(profile)
    email = checks.normalise_email(email)
    user = User(email=email, **profile)
    if password:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(fields={"password": list(exc.messages)})
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        org = _lock(Organization, organization.pk)
        if not org.is_active:
            raise ValidationFailed(fields={"organization": [_("This organisation is not active.")]})
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise ValidationFailed(
                fields={"email": [_("A user with this email address already exists.")]}
            )
        membership = Membership.objects.create(user=user, organization=org, role=role)
        audit.record(
            actor=actor,
            instance=user,
            action=audit.AuditAction.CREATE,
            changes={
                **audit.snapshot(user, ["email", *PROFILE_FIELDS]),
                "organization": [None, str(org)],
                "role": [None, role],
            },
        )
        audit.record(
            actor=actor,
            instance=membership,
            action=audit.AuditAction.CREATE,
            changes=audit.snapshot(membership, ["user", "organization", "role"]),
        )
    return User.objects.get(pk=user.pk)


def _check_user_change(actor: User, target: User, changes: dict) -> None:
    if actor.pk == target.pk:
        protected = sorted(set(changes) & set(PROTECTED_USER_FIELDS))
        if protected:
            raise PermissionDenied(
                _("You cannot change your own role, organisation, access or email address."),
                fields={
                    name: [_("You cannot change this on your own account.")] for name in protected
                },
            )
        return
    if not access.may_manage_user(actor, target):
        raise PermissionDenied()
    if ({"is_staff", "is_superuser"} & set(changes)) and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can change administration access."))


def update_user(*, actor: User, user: User, **changes) -> User:
    """Change a person's account. Nobody changes their own role, organisation or access.

    ``role`` and ``organization`` go through the same role ceiling as memberships.
    """
    _reject_unknown(changes, (*PROFILE_FIELDS, *PROTECTED_USER_FIELDS))
    with transaction.atomic():
        # Decide on the stored row, not on an instance a form may have changed in memory.
        locked = _lock_user(user.pk)
        _check_user_change(actor, locked, changes)
        membership_changes = {k: changes.pop(k) for k in ("role", "organization") if k in changes}
        checks.validate_profile(changes)
        if "email" in changes:
            changes["email"] = checks.normalise_email(changes["email"], exclude_pk=locked.pk)
        if membership_changes:
            _change_membership(actor, locked, membership_changes)
        diff = audit.apply_changes(locked, changes)
        if diff:
            locked.save(update_fields=list(diff))
            audit.record(
                actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff
            )
    return User.objects.get(pk=user.pk)


def _change_membership(actor: User, user: User, changes: dict) -> Membership:
    """Move a user's membership to a new organisation and/or role (or give them one)."""
    current = Membership.objects.select_for_update().filter(user_id=user.pk).first()
    org = changes.get("organization") or (current.organization if current else None)
    role = changes.get("role") or (current.role if current else None)
    if org is None or role is None:
        raise ValidationFailed(
            fields={"organization": [_("Give both an organisation and a role.")]}
        )
    org = _lock(Organization, org.pk)
    checks.check_grant(actor, org, role)
    if current is None:
        membership = Membership.objects.create(user=user, organization=org, role=role)
        audit.record(
            actor=actor,
            instance=membership,
            action=audit.AuditAction.CREATE,
            changes=audit.snapshot(membership, ["user", "organization", "role"]),
        )
        return membership
    diff = audit.apply_changes(current, {"organization": org, "role": role})
    if diff:
        current.save(update_fields=list(diff))
        audit.record(actor=actor, instance=current, action=audit.AuditAction.UPDATE, changes=diff)
    return current


def deactivate_user(*, actor: User, user: User) -> User:
    """Stop a person from signing in (their history stays). Nobody deactivates themselves."""
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot deactivate your own account."))
    with transaction.atomic():
        locked = _lock_user(user.pk)
        if not access.may_manage_user(actor, locked):
            raise PermissionDenied()
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
            audit.record(
                actor=actor,
                instance=locked,
                action=audit.AuditAction.ACTION,
                verb="deactivate",
                changes={"is_active": [True, False]},
            )
    return User.objects.get(pk=user.pk)


def update_preferences(*, actor: User, user: User, **changes) -> User:
    """Change a user's own display name, phone, language or time zone."""
    _reject_unknown(changes, PROFILE_FIELDS)
    checks.validate_profile(changes)
    with transaction.atomic():
        locked = _lock_user(user.pk)
        if actor.pk != locked.pk and not access.may_manage_user(actor, locked):
            raise PermissionDenied()
        diff = audit.apply_changes(locked, changes)
        if diff:
            locked.save(update_fields=[*diff])
            audit.record(
                actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff
            )
    for name in diff:
        setattr(user, name, getattr(locked, name))
    return user


# ---------------------------------------------------------------- memberships


def create_membership(
    *, actor: User, user: User, organization: Organization, role: str
) -> Membership:
    """Give a person without an organisation a place in one (within the role ceiling)."""
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot change your own membership."))
    if not access.may_manage_users_in(actor, organization.pk):
        raise PermissionDenied()
    if not User.objects.visible_to(actor).filter(pk=user.pk).exists():
        raise NotFound()
    with transaction.atomic():
        locked = _lock_user(user.pk)
        if Membership.objects.filter(user_id=locked.pk).exists():
            raise ValidationFailed(
                fields={"user": [_("This person already belongs to an organisation.")]}
            )
        return _change_membership(actor, locked, {"organization": organization, "role": role})


def update_membership(*, actor: User, membership: Membership, **changes) -> Membership:
    """Change a membership's role or organisation; the actor must manage both old and new."""
    _reject_unknown(changes, ("role", "organization"))
    if actor.pk == membership.user_id:
        raise PermissionDenied(_("You cannot change your own membership."))
    user_id = Membership.objects.filter(pk=membership.pk).values_list("user_id", flat=True).first()
    if user_id is None:
        raise NotFound()
    with transaction.atomic():
        # Lock order everywhere: the user, then their membership, then organisations.
        target = _lock_user(user_id)
        if not access.may_manage_user(actor, target):
            raise PermissionDenied()
        _change_membership(actor, target, changes)
    return Membership.objects.select_related("user", "organization").get(pk=membership.pk)


def delete_membership(*, actor: User, membership: Membership) -> None:
    """Take a person out of their organisation (operator admins only, never themselves).

    They keep their account but lose their role, and leave that organisation's teams
    (as member and as lead), each change audited on the team.
    """
    if not access.is_operator_admin(actor):
        raise PermissionDenied()
    if actor.pk == membership.user_id:
        raise PermissionDenied(_("You cannot remove your own membership."))
    user_id = Membership.objects.filter(pk=membership.pk).values_list("user_id", flat=True).first()
    if user_id is None:
        raise NotFound()
    with transaction.atomic():
        # Lock order everywhere: the user, then their membership, then teams.
        target = _lock_user(user_id)
        if not access.may_manage_user(actor, target):
            raise PermissionDenied()
        locked = _lock(Membership, membership.pk)
        _leave_teams(actor, target, locked.organization_id)
        erase(
            actor=actor,
            instance=locked,
            fields=MEMBERSHIP_FIELDS,
            in_use_message=MEMBERSHIP_IN_USE,
        )


def _leave_teams(actor: User, person: User, organization_id: int) -> None:
    """Remove ``person`` from the teams of an organisation they no longer belong to."""
    theirs = Team.objects.filter(organization_id=organization_id).filter(
        models.Q(members=person) | models.Q(lead=person)
    )
    for team in Team.objects.select_for_update().filter(pk__in=theirs.values("pk")).order_by("pk"):
        old_members = list(team.members.all())
        new_members = [m for m in old_members if m.pk != person.pk]
        diff = audit.apply_changes(team, {"lead": None} if team.lead_id == person.pk else {})
        if diff:
            team.save(update_fields=list(diff))
        team.members.remove(person)
        diff |= audit.m2m_diff("members", old_members, new_members)
        audit.record(actor=actor, instance=team, action=audit.AuditAction.UPDATE, changes=diff)


# ---------------------------------------------------------------- teams


def _check_team_people(organization: Organization, lead: User | None, members: list[User]) -> None:
    ids = {m.pk for m in members} | ({lead.pk} if lead else set())
    inside = set(
        Membership.objects.filter(user_id__in=ids, organization_id=organization.pk).values_list(
            "user_id", flat=True
        )
    )
    problems: dict[str, list] = {}
    outsiders = [m for m in members if m.pk not in inside]
    if outsiders:
        problems["members"] = [
            _("%(name)s is not in %(org)s.") % {"name": m, "org": organization} for m in outsiders
        ]
    if lead is not None and lead.pk not in inside:
        problems["lead"] = [_("The lead must belong to the team's organisation.")]
    if problems:
        raise ValidationFailed(fields=problems)


def _check_team_fields(team: Team) -> None:
    team.name = str(team.name or "").strip()
    if not team.name:
        raise ValidationFailed(fields={"name": [_("A team needs a name.")]})
    if team.dispatch_mode not in DispatchMode.values:
        raise ValidationFailed(fields={"dispatch_mode": [_("Choose a dispatch mode.")]})
    clash = Team.objects.filter(organization_id=team.organization_id, name__iexact=team.name)
    if team.pk:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationFailed(
            fields={"name": [_("This organisation already has a team with this name.")]}
        )
    _full_clean(team, exclude=["organization", "lead"])


def create_team(
    *,
    actor: User,
    organization: Organization,
    name: str,
    description: str = "",
    lead: User | None = None,
    members: Iterable[User] = (),
    dispatch_mode: str = DispatchMode.ASSIGN,
    is_active: bool = True,
) -> Team:
    """Form a team in an organisation; its lead and members must belong to that organisation."""
    if not access.may_manage_teams_of(actor, organization.pk):
        raise PermissionDenied()
    members = list(members)
    with transaction.atomic():
        org = _lock(Organization, organization.pk)
        team = Team(
            organization=org,
            name=name,
            description=description or "",
            lead=lead,
            dispatch_mode=dispatch_mode,
            is_active=is_active,
        )
        _check_team_fields(team)
        _check_team_people(org, lead, members)
        team.save()
        team.members.set(members)
        audit.record(
            actor=actor,
            instance=team,
            action=audit.AuditAction.CREATE,
            changes={
                **audit.snapshot(team, list(TEAM_SNAPSHOT_FIELDS)),
                **audit.m2m_diff("members", [], members),
            },
        )
    return team


def update_team(*, actor: User, team: Team, **changes) -> Team:
    """Rename a team, change its lead, members, dispatch mode or whether it is active."""
    _reject_unknown(changes, TEAM_FIELDS)
    with transaction.atomic():
        locked = _lock(Team, team.pk)
        if not access.may_manage_teams_of(actor, locked.organization_id):
            raise PermissionDenied()
        new_members = list(changes.pop("members")) if "members" in changes else None
        old_members = list(locked.members.all())
        diff = audit.apply_changes(locked, changes)
        _check_team_fields(locked)
        _check_team_people(
            locked.organization, locked.lead, new_members if new_members is not None else []
        )
        if new_members is not None:
            diff.update(audit.m2m_diff("members", old_members, new_members))
        if not diff:
            return locked
        row_fields = [k for k in diff if k != "members"]
        if row_fields:
            locked.save(update_fields=row_fields)
        if new_members is not None:
            locked.members.set(new_members)
        audit.record(actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff)
    return locked


def delete_team(*, actor: User, team: Team) -> None:
    """Disband a team: its members keep their accounts; the audit keeps who was in it."""
    with transaction.atomic():
        locked = _lock(Team, team.pk)
        if not access.may_manage_teams_of(actor, locked.organization_id):
            raise PermissionDenied()
        members = sorted(str(m) for m in locked.members.all())
        locked.members.clear()
        erase(
            actor=actor,
            instance=locked,
            fields=TEAM_SNAPSHOT_FIELDS,
            in_use_message=TEAM_IN_USE,
            extra_changes={"members": [None, members]},
        )
