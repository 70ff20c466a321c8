"""Verbs on sites, projects, asset models and assets.

Pages, API, admin, imports and jobs all change these records through the functions
here and nowhere else. Each one checks the actor's capability, re-reads the row under
``select_for_update`` (a form or serializer may have changed the caller's copy in
memory), validates the whole result before writing anything, saves, and writes one
``AuditEntry`` with old → new values, all inside one transaction. The ``delete_*``
verbs erase only records nothing depends on (a 409 Conflict says what to do instead)
and record the last values before the row goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core import audit
from frontline.core.deletion import erase
from frontline.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    from_django_validation,
)
from frontline.core.locks import lock_for_delete
from frontline.sites.models import (
    ASSET_STATUS_TRANSITIONS,
    Asset,
    AssetModel,
    AssetStatus,
    Project,
    Site,
)

SITE_FIELDS = (
    "customer",
    "name",
    "address",
    "city",
    "latitude",
    "longitude",
    "time_zone",
    "notes",
    "is_active",
)
PROJECT_FIELDS = (
    "customer",
    "code",
    "name",
    "description",
    "contract_start",
    "contract_end",
    "is_active",
)
ASSET_MODEL_FIELDS = ("manufacturer", "model", "category", "description")
ASSET_FIELDS = ("site", "model", "name", "serial", "location", "installed_on", "parent", "status")

DEFAULT_TIME_ZONE = "Asia/Shanghai"
MAX_PARENT_DEPTH = 50

DUPLICATE_SITE = _("This customer already has a site with this name.")
DUPLICATE_PROJECT = _("Another project already uses this code.")
DUPLICATE_ASSET_MODEL = _("This manufacturer already has a model with this name.")
DUPLICATE_ASSET = _("An asset of this model with this serial number already exists.")
CYCLE = _("An asset cannot be part of itself or of one of its own parts.")
SITE_HAS_ASSETS = _(
    "Assets are recorded at this site, so it cannot be deleted; deactivate it instead."
)
SITE_IN_PROJECT = _("A project covers this site, so it cannot be deleted; deactivate it instead.")
SITE_IN_USE = _("This site is still in use, so it cannot be deleted; deactivate it instead.")
PROJECT_IN_USE = _("This project is still in use, so it cannot be deleted; deactivate it instead.")
ASSET_MODEL_IN_USE = _("Assets of this model are recorded, so it cannot be deleted.")
ASSET_HAS_PARTS = _(
    "This asset has parts, so it cannot be deleted; detach or delete them first, "
    "or retire the asset instead."
)
ASSET_IN_USE = _("This asset is still in use, so it cannot be deleted; retire it instead.")

Errors = dict[str, list[str]]


# ---------------------------------------------------------------- helpers


def _require(actor, capability: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_capability(capability):
        raise PermissionDenied()


def _only(changes: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )


def _tidy(values: dict[str, Any]) -> dict[str, Any]:
    """Strip surrounding white space from text, so "Plant A " and "Plant A" are one name."""
    return {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}


def _add(errors: Errors, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def _field_errors(instance: models.Model) -> Errors:
    """Types, lengths, choices and validators of every field (constraints are checked by hand)."""
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        return from_django_validation(exc).fields
    return {}


def _raise_if(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(fields=errors)


def _visible(model: type[models.Model], actor, pk) -> bool:
    return pk is not None and model.objects.visible_to(actor).filter(pk=pk).exists()


def _locked(model: type[models.Model], actor, pk):
    """The current row, locked for this transaction; a 404 when the actor may not see it.

    ``no_key`` (FOR NO KEY UPDATE on PostgreSQL) still excludes other writers of the row
    but lets rows that merely point at it (an asset at this site, a part of this asset)
    be written meanwhile, as their foreign-key checks need only a key-share lock.
    """
    visible = model.objects.visible_to(actor).filter(pk=pk).values("pk")
    try:
        return model.objects.select_for_update(no_key=True).get(pk__in=visible)
    except model.DoesNotExist:
        raise NotFound()


def _locked_for_delete(model: type[models.Model], actor, pk):
    """Like :func:`_locked`, but a full row lock (see ``core.locks.lock_for_delete``)."""
    locked = lock_for_delete(model.objects.visible_to(actor), pk)
    if locked is None:
        raise NotFound()
    return locked


def _save(
    instance: models.Model, *, duplicate: Errors, update_fields: list[str] | None = None
) -> None:
    """Save, turning a unique-constraint race lost to another request into the same 400."""
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError:
        raise ValidationFailed(fields=duplicate)


def _insert(actor, instance: models.Model, *, duplicate: Errors, fields: Iterable[str]) -> None:
    """Save a new, validated row and record its creation with the values it was given."""
    _save(instance, duplicate=duplicate)
    audit.record(
        actor=actor,
        instance=instance,
        action=audit.AuditAction.CREATE,
        changes=audit.snapshot(instance, list(fields)),
    )


def _update_fields(diff: dict[str, Any]) -> list[str]:
    return [*diff, "updated_at"]


# ---------------------------------------------------------------- sites


def _validate_site(*, actor, site: Site, customer_changed: bool) -> None:
    errors = _field_errors(site)
    if "customer" not in errors:
        if not _visible(Organization, actor, site.customer_id):
            _add(errors, "customer", _("No such organisation."))
        elif site.customer.kind != OrganizationKind.CUSTOMER:
            _add(errors, "customer", _("Choose a customer organisation."))
        elif (
            customer_changed
            and site.pk
            and site.projects.exclude(customer_id=site.customer_id).exists()
        ):
            _add(
                errors,
                "customer",
                _("Projects of the current customer cover this site; remove it from them first."),
            )
    if "latitude" not in errors and "longitude" not in errors:
        if (site.latitude is None) != (site.longitude is None):
            missing = "longitude" if site.longitude is None else "latitude"
            _add(errors, missing, _("Give both latitude and longitude, or neither."))
    if "name" not in errors and "customer" not in errors:
        same = Site.objects.filter(customer_id=site.customer_id, name=site.name).exclude(pk=site.pk)
        if same.exists():
            _add(errors, "name", DUPLICATE_SITE)
    _raise_if(errors)


def create_site(
    *,
    actor,
    customer: Organization,
    name: str,
    address: str = "",
    city: str = "",
    latitude=None,
    longitude=None,
    time_zone: str = DEFAULT_TIME_ZONE,
    notes: str = "",
    is_active: bool = True,
) -> Site:
    """Add a customer's site."""
    _require(actor, Cap.MANAGE_SITES)
    values = _tidy(
        {
            "customer": customer,
            "name": name,
            "address": address,
            "city": city,
            "latitude": latitude,
            "longitude": longitude,
            "time_zone": time_zone,
            "notes": notes,
            "is_active": is_active,
        }
    )
    with transaction.atomic():
        site = Site(**values)
        _validate_site(actor=actor, site=site, customer_changed=False)
        _insert(actor, site, duplicate={"name": [str(DUPLICATE_SITE)]}, fields=SITE_FIELDS)
    return site


def update_site(*, actor, site: Site, **changes) -> Site:
    """Change some of a site's fields; returns the saved row."""
    _require(actor, Cap.MANAGE_SITES)
    _only(changes, SITE_FIELDS)
    with transaction.atomic():
        locked = _locked(Site, actor, site.pk)
        old_customer_id = locked.customer_id
        diff = audit.apply_changes(locked, _tidy(changes))
        if not diff:
            return locked
        _validate_site(
            actor=actor, site=locked, customer_changed=locked.customer_id != old_customer_id
        )
        _save(locked, duplicate={"name": [str(DUPLICATE_SITE)]}, update_fields=_update_fields(diff))
        audit.record(actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff)
    return locked


def delete_site(*, actor, site: Site) -> None:
    """Erase a site entered by mistake; one with assets or covered by a project is deactivated instead."""
    _require(actor, Cap.MANAGE_SITES)
    with transaction.atomic():
        locked = _locked_for_delete(Site, actor, site.pk)
        if locked.assets.exists():
            raise Conflict(SITE_HAS_ASSETS, code="site_has_assets")
        if locked.projects.exists():
            raise Conflict(SITE_IN_PROJECT, code="site_in_project")
        erase(actor=actor, instance=locked, fields=SITE_FIELDS, in_use_message=SITE_IN_USE)


# ---------------------------------------------------------------- projects


def _validate_project(*, actor, project: Project, sites: list[Site], sites_given: bool) -> None:
    errors = _field_errors(project)
    if "customer" not in errors:
        if not _visible(Organization, actor, project.customer_id):
            _add(errors, "customer", _("No such organisation."))
        elif project.customer.kind != OrganizationKind.CUSTOMER:
            _add(errors, "customer", _("Choose a customer organisation."))
    if "code" not in errors:
        if Project.objects.filter(code=project.code).exclude(pk=project.pk).exists():
            _add(errors, "code", DUPLICATE_PROJECT)
    start, end = project.contract_start, project.contract_end
    if start and end and end < start and "contract_end" not in errors:
        _add(errors, "contract_end", _("The contract cannot end before it starts."))
    if "customer" not in errors:
        visible = set(
            Site.objects.visible_to(actor)
            .filter(pk__in=[s.pk for s in sites])
            .values_list("pk", flat=True)
        )
        foreign = [s for s in sites if s.pk not in visible or s.customer_id != project.customer_id]
        if foreign:
            # When only the customer changed, the sites it already covers are the problem.
            target = "sites" if sites_given else "customer"
            _add(errors, target, _("Every site must belong to the project's customer."))
    _raise_if(errors)


def create_project(
    *,
    actor,
    customer: Organization,
    code: str,
    name: str,
    description: str = "",
    sites: Iterable[Site] = (),
    contract_start=None,
    contract_end=None,
    is_active: bool = True,
) -> Project:
    """Record a service contract with a customer, covering some of its sites."""
    _require(actor, Cap.MANAGE_PROJECTS)
    values = _tidy(
        {
            "customer": customer,
            "code": code,
            "name": name,
            "description": description,
            "contract_start": contract_start,
            "contract_end": contract_end,
            "is_active": is_active,
        }
    )
    sites = list(dict.fromkeys(sites))
    with transaction.atomic():
        project = Project(**values)
        _validate_project(actor=actor, project=project, sites=sites, sites_given=True)
        _save(project, duplicate={"code": [str(DUPLICATE_PROJECT)]})
        project.sites.set(sites)
        changes = audit.snapshot(project, list(PROJECT_FIELDS)) | audit.m2m_diff("sites", [], sites)
        audit.record(
            actor=actor, instance=project, action=audit.AuditAction.CREATE, changes=changes
        )
    return project


def update_project(*, actor, project: Project, **changes) -> Project:
    """Change a project's fields and, with ``sites=[...]``, the sites it covers."""
    _require(actor, Cap.MANAGE_PROJECTS)
    _only(changes, (*PROJECT_FIELDS, "sites"))
    new_sites = changes.pop("sites", None)
    with transaction.atomic():
        locked = _locked(Project, actor, project.pk)
        old_sites = list(locked.sites.all())
        sites = old_sites if new_sites is None else list(dict.fromkeys(new_sites))
        diff = audit.apply_changes(locked, _tidy(changes))
        sites_changed = {s.pk for s in sites} != {s.pk for s in old_sites}
        if not diff and not sites_changed:
            return locked
        _validate_project(
            actor=actor, project=locked, sites=sites, sites_given=new_sites is not None
        )
        _save(
            locked,
            duplicate={"code": [str(DUPLICATE_PROJECT)]},
            update_fields=_update_fields(diff) if diff else ["updated_at"],
        )
        if sites_changed:
            locked.sites.set(sites)
            # Two sites of different customers may share a name: then record the labels anyway.
            diff |= audit.m2m_diff("sites", old_sites, sites) or {
                "sites": [[str(s) for s in old_sites], [str(s) for s in sites]]
            }
        audit.record(actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff)
    return locked


def delete_project(*, actor, project: Project) -> None:
    """Erase a project; the sites it covered stay, and the audit keeps which they were."""
    _require(actor, Cap.MANAGE_PROJECTS)
    with transaction.atomic():
        locked = _locked_for_delete(Project, actor, project.pk)
        sites = list(locked.sites.all())
        erase(
            actor=actor,
            instance=locked,
            fields=PROJECT_FIELDS,
            in_use_message=PROJECT_IN_USE,
            extra_changes={"sites": [None, sorted(str(s) for s in sites)]},
        )


# ---------------------------------------------------------------- asset models


def _validate_asset_model(asset_model: AssetModel) -> None:
    errors = _field_errors(asset_model)
    if "manufacturer" not in errors and "model" not in errors:
        same = AssetModel.objects.filter(
            manufacturer=asset_model.manufacturer, model=asset_model.model
        ).exclude(pk=asset_model.pk)
        if same.exists():
            _add(errors, "model", DUPLICATE_ASSET_MODEL)
    _raise_if(errors)


def create_asset_model(
    *, actor, manufacturer: str, model: str, category: str, description: str = ""
) -> AssetModel:
    """Add a make and model to the equipment catalogue."""
    _require(actor, Cap.MANAGE_ASSET_MODELS)
    values = _tidy(
        {
            "manufacturer": manufacturer,
            "model": model,
            "category": category,
            "description": description,
        }
    )
    with transaction.atomic():
        asset_model = AssetModel(**values)
        _validate_asset_model(asset_model)
        _insert(
            actor,
            asset_model,
            duplicate={"model": [str(DUPLICATE_ASSET_MODEL)]},
            fields=ASSET_MODEL_FIELDS,
        )
    return asset_model


def update_asset_model(*, actor, asset_model: AssetModel, **changes) -> AssetModel:
    _require(actor, Cap.MANAGE_ASSET_MODELS)
    _only(changes, ASSET_MODEL_FIELDS)
    with transaction.atomic():
        locked = _locked(AssetModel, actor, asset_model.pk)
        diff = audit.apply_changes(locked, _tidy(changes))
        if not diff:
            return locked
        _validate_asset_model(locked)
        _save(locked, duplicate={"model": [str(DUPLICATE_ASSET_MODEL)]}, update_fields=list(diff))
        audit.record(actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff)
    return locked


def delete_asset_model(*, actor, asset_model: AssetModel) -> None:
    """Remove a make and model from the catalogue while no asset is of that model."""
    _require(actor, Cap.MANAGE_ASSET_MODELS)
    with transaction.atomic():
        locked = _locked_for_delete(AssetModel, actor, asset_model.pk)
        if locked.assets.exists():
            raise Conflict(ASSET_MODEL_IN_USE, code="asset_model_in_use")
        erase(
            actor=actor,
            instance=locked,
            fields=ASSET_MODEL_FIELDS,
            in_use_message=ASSET_MODEL_IN_USE,
        )


# ---------------------------------------------------------------- assets


def _lock_hierarchy(site_id: int) -> None:
    """Serialise changes to the part-of tree of one site.

    Two concurrent moves (A into B, B into A) each see no cycle on their own; holding
    the site's row lock makes the second one read the first one's result.
    """
    list(
        Site.objects.select_for_update(no_key=True).filter(pk=site_id).values_list("pk", flat=True)
    )


def _creates_cycle(asset: Asset, parent_id: int) -> bool:
    """Would making ``parent_id`` the parent of ``asset`` put the asset inside itself?"""
    if asset.pk is None:
        return False
    current, depth = parent_id, 0
    while current is not None:
        if current == asset.pk or depth > MAX_PARENT_DEPTH:
            return True
        current = Asset.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        depth += 1
    return False


def _validate_asset(*, actor, asset: Asset, old_status: str | None, site_changed: bool) -> None:
    errors = _field_errors(asset)
    if "site" not in errors and not _visible(Site, actor, asset.site_id):
        _add(errors, "site", _("No such site."))
    if "parent" not in errors and asset.parent_id is not None:
        parent = asset.parent
        if not _visible(Asset, actor, parent.pk):
            _add(errors, "parent", _("No such asset."))
        elif parent.site_id != asset.site_id:
            _add(errors, "parent", _("An asset can only be part of an asset at the same site."))
        else:
            _lock_hierarchy(asset.site_id)
            if _creates_cycle(asset, parent.pk):
                _add(errors, "parent", CYCLE)
    if site_changed and "site" not in errors and asset.children.exists():
        _add(
            errors,
            "site",
            _("Parts of this asset are at its current site; move or detach them first."),
        )
    if old_status is not None and asset.status != old_status and "status" not in errors:
        if asset.status not in ASSET_STATUS_TRANSITIONS.get(old_status, frozenset()):
            _add(
                errors,
                "status",
                _("An asset cannot go from %(old)s to %(new)s.")
                % {"old": AssetStatus(old_status).label, "new": AssetStatus(asset.status).label},
            )
    if "model" not in errors and "serial" not in errors:
        same = Asset.objects.filter(model_id=asset.model_id, serial=asset.serial).exclude(
            pk=asset.pk
        )
        if same.exists():
            _add(errors, "serial", DUPLICATE_ASSET)
    _raise_if(errors)


def create_asset(
    *,
    actor,
    site: Site,
    model: AssetModel,
    name: str,
    serial: str,
    location: str = "",
    installed_on=None,
    parent: Asset | None = None,
    status: str = AssetStatus.IN_SERVICE,
) -> Asset:
    """Register a piece of equipment at a site."""
    _require(actor, Cap.MANAGE_ASSETS)
    values = _tidy(
        {
            "site": site,
            "model": model,
            "name": name,
            "serial": serial,
            "location": location,
            "installed_on": installed_on,
            "parent": parent,
            "status": status,
        }
    )
    with transaction.atomic():
        asset = Asset(**values)
        _validate_asset(actor=actor, asset=asset, old_status=None, site_changed=False)
        _insert(actor, asset, duplicate={"serial": [str(DUPLICATE_ASSET)]}, fields=ASSET_FIELDS)
    return asset


def update_asset(*, actor, asset: Asset, **changes) -> Asset:
    """Change an asset's fields, its place in a larger asset, or its status."""
    _require(actor, Cap.MANAGE_ASSETS)
    _only(changes, ASSET_FIELDS)
    with transaction.atomic():
        locked = _locked(Asset, actor, asset.pk)
        old_status, old_site_id = locked.status, locked.site_id
        diff = audit.apply_changes(locked, _tidy(changes))
        if not diff:
            return locked
        _validate_asset(
            actor=actor,
            asset=locked,
            old_status=old_status,
            site_changed=locked.site_id != old_site_id,
        )
        _save(
            locked, duplicate={"serial": [str(DUPLICATE_ASSET)]}, update_fields=_update_fields(diff)
        )
        audit.record(actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff)
    return locked


def delete_asset(*, actor, asset: Asset) -> None:
    """Erase an asset registered by mistake; one with parts is refused (retire it instead)."""
    _require(actor, Cap.MANAGE_ASSETS)
    with transaction.atomic():
        locked = _locked_for_delete(Asset, actor, asset.pk)
        if locked.children.exists():
            raise Conflict(ASSET_HAS_PARTS, code="asset_has_parts")
        erase(actor=actor, instance=locked, fields=ASSET_FIELDS, in_use_message=ASSET_IN_USE)
