"""Verbs on quality schemes and SOPs (documents, numbered versions and their KPIs), for
those who manage routes. Same shape as ``frontline.inspections.config``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core.errors import ValidationFailed
from frontline.core.richtext import sanitize
from frontline.inspections.config_common import (
    add_error,
    audit_created,
    audit_updated,
    field_errors,
    locked,
    raise_errors,
    reject_unknown,
    require_manager,
    save_or_duplicate,
)
from frontline.inspections.models import QualityScheme, Sop, SopKpi, SopVersion
from frontline.inspections.states import KpiKind, KpiMetric

SCHEME_FIELDS = ("name", "coverage_weight", "timeliness_weight", "anomalies_weight",
                 "pace_weight", "photos_weight", "min_seconds_per_point", "standard")  # fmt: skip
SOP_FIELDS = ("code", "title", "work_order_type", "is_active")
MAX_KPIS = 20


# ---------------------------------------------------------------- quality schemes


def _validate_scheme(scheme: QualityScheme) -> None:
    errors = field_errors(scheme)
    if not errors and scheme.total_weight <= 0:
        add_error(errors, "coverage_weight", _("At least one weight must be above zero."))
    if "name" not in errors:
        same = QualityScheme.objects.filter(name__iexact=scheme.name.strip())
        if same.exclude(pk=scheme.pk).exists():
            add_error(errors, "name", _("Another scheme has this name."))
    raise_errors(errors)


def create_quality_scheme(*, actor, name: str, **weights: Any) -> QualityScheme:
    """A scheme with ``name``; ``weights`` are any other ``SCHEME_FIELDS`` (defaults apply)."""
    require_manager(actor)
    reject_unknown(weights, SCHEME_FIELDS)
    with transaction.atomic():
        scheme = QualityScheme(name=(name or "").strip(), **weights)
        _validate_scheme(scheme)
        save_or_duplicate(scheme, {"name": [str(_("Another scheme has this name."))]})
        audit_created(actor, scheme, SCHEME_FIELDS)
    return scheme


def update_quality_scheme(*, actor, scheme: QualityScheme, **changes: Any) -> QualityScheme:
    require_manager(actor)
    reject_unknown(changes, SCHEME_FIELDS)
    with transaction.atomic():
        scheme = locked(QualityScheme, actor, scheme.pk)
        diff = audit.apply_changes(scheme, changes)
        if diff:
            _validate_scheme(scheme)
            save_or_duplicate(scheme, {"name": [str(_("Another scheme has this name."))]})
            audit_updated(actor, scheme, diff)
    return scheme


# ---------------------------------------------------------------- SOPs


def create_sop(*, actor, code: str, title: str, work_order_type: str = "") -> Sop:
    """A new SOP document (its text and KPIs come with its first version)."""
    require_manager(actor)
    with transaction.atomic():
        sop = Sop(code=(code or "").strip(), title=(title or "").strip(),
                  work_order_type=work_order_type or "")  # fmt: skip
        errors = field_errors(sop)
        if "code" not in errors and Sop.objects.filter(code__iexact=sop.code).exists():
            add_error(errors, "code", _("Another SOP has this code."))
        raise_errors(errors)
        save_or_duplicate(sop, {"code": [str(_("Another SOP has this code."))]})
        audit_created(actor, sop, SOP_FIELDS)
    return sop


def update_sop(*, actor, sop: Sop, **changes: Any) -> Sop:
    """Change the title or retire the SOP; code and type stay (versions depend on them)."""
    require_manager(actor)
    reject_unknown(changes, ("title", "is_active"))
    with transaction.atomic():
        sop = locked(Sop, actor, sop.pk)
        diff = audit.apply_changes(sop, changes)
        if diff:
            raise_errors(field_errors(sop))
            sop.save()
            audit_updated(actor, sop, diff)
    return sop


def _clean_kpis(kpis: Iterable[dict]) -> list[SopKpi]:
    rows, errors = [], {}
    kpis = list(kpis or [])
    if len(kpis) > MAX_KPIS:
        raise ValidationFailed(fields={"kpis": [_("At most %(n)d KPIs.") % {"n": MAX_KPIS}]})
    for i, raw in enumerate(kpis):
        key = f"kpis.{i}"
        if not isinstance(raw, dict):
            add_error(errors, key, _("Give kind, metric, comparator and target."))
            continue
        kpi = SopKpi(
            kind=raw.get("kind") or KpiKind.RESULT,
            metric=raw.get("metric") or "",
            comparator=raw.get("comparator") or "",
            target=raw.get("target"),
            position=i,
        )
        for name, msgs in field_errors(kpi, exclude=("version",)).items():
            for msg in msgs:
                add_error(errors, f"{key}.{name}", msg)
        if f"{key}.metric" not in errors and kpi.metric not in KpiMetric.values:
            add_error(errors, f"{key}.metric", _("Unknown metric."))
        rows.append(kpi)
    raise_errors(errors)
    return rows


def publish_sop_version(
    *,
    actor,
    sop: Sop,
    body: str = "",
    effective_from: dt.date | None = None,
    kpis: Iterable[dict] = (),
) -> SopVersion:
    """The next version of ``sop`` with its (sanitised) text and KPIs.

    ``kpis``: ``[{"kind": "result"|"process", "metric": KpiMetric, "comparator": "gte"|"lte",
    "target": Decimal}]``; rates are fractions (0.8 for 80 %)."""
    require_manager(actor)
    with transaction.atomic():
        sop = locked(Sop, actor, sop.pk)
        rows = _clean_kpis(kpis)
        last = SopVersion.objects.filter(sop=sop).aggregate(m=Max("number"))["m"] or 0
        version = SopVersion(
            sop=sop,
            number=last + 1,
            body=sanitize(body or ""),
            effective_from=effective_from or timezone.localdate(),
            created_by=actor,
        )
        version.save()
        for kpi in rows:
            kpi.version = version
        SopKpi.objects.bulk_create(rows)
        changes = audit.snapshot(version, ["number", "effective_from"])
        changes["kpis"] = [None, [f"{k.metric} {k.comparator} {k.target}" for k in rows]]
        audit.record(
            actor=actor, instance=version, action=audit.AuditAction.CREATE, changes=changes
        )
    return version


__all__ = [
    "create_quality_scheme",
    "create_sop",
    "publish_sop_version",
    "update_quality_scheme",
    "update_sop",
]
