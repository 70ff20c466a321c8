"""Real ids for the fuzzer's path parameters: which model each URL segment names."""

from __future__ import annotations

from django.apps import apps

# First path segment after /api/v1/ (or the parameter's own name) -> (model, id column).
SEGMENT_MODELS = {
    "anomalies": ("inspections.Anomaly", "pk"),
    "asset-models": ("sites.AssetModel", "pk"),
    "assets": ("sites.Asset", "pk"),
    "attachments": ("desk.Attachment", "pk"),
    "business-calendars": ("desk.BusinessCalendar", "pk"),
    "dispatch-rules": ("field.DispatchRule", "pk"),
    "dispatch": ("dispatch.PlanRun", "pk"),
    "engineers": ("field.EngineerProfile", "user_id"),
    "memberships": ("accounts.Membership", "pk"),
    "notifications": ("notifications.Notification", "pk"),
    "offers": ("field.GrabOffer", "pk"),
    "organizations": ("accounts.Organization", "pk"),
    "point-rules": ("incentives.PointRule", "pk"),
    "points": ("incentives.LedgerEntry", "pk"),
    "problems": ("desk.Problem", "pk"),
    "projects": ("sites.Project", "pk"),
    "quality-schemes": ("inspections.QualityScheme", "pk"),
    "redemptions": ("incentives.Redemption", "pk"),
    "retrospective-actions": ("desk.RetrospectiveAction", "pk"),
    "rounds": ("inspections.Round", "pk"),
    "routes": ("inspections.Route", "pk"),
    "schedules": ("inspections.Schedule", "pk"),
    "severity-levels": ("desk.SeverityLevel", "pk"),
    "sites": ("sites.Site", "pk"),
    "sla-policies": ("desk.SlaPolicy", "pk"),
    "sops": ("inspections.Sop", "pk"),
    "surveys": ("field.Survey", "pk"),
    "teams": ("accounts.Team", "pk"),
    "tickets": ("desk.Ticket", "pk"),
    "tokens": ("accounts.ApiToken", "pk"),
    "users": ("accounts.User", "pk"),
    "work-order-photos": ("field.WorkOrderPhoto", "pk"),
    "work-orders": ("field.WorkOrder", "pk"),
    "checkpoint_id": ("inspections.Checkpoint", "pk"),
    "item_id": ("inspections.CheckItem", "pk"),
}

PER_MODEL = 6


def real_ids() -> dict[str, list[str]]:
    """A few ids per model, spread over the table so several organisations are hit."""
    found: dict[str, list[str]] = {}
    for key, (label, column) in SEGMENT_MODELS.items():
        values = list(apps.get_model(label).objects.order_by(column).values_list(column, flat=True))
        step = max(1, len(values) // PER_MODEL)
        found[key] = [str(v) for v in values[::step][:PER_MODEL]]
    return found


def key_for(path: str, name: str) -> str | None:
    """The ``SEGMENT_MODELS`` key for path parameter ``name`` of ``path``."""
    if name in SEGMENT_MODELS:
        return name
    segment = path.removeprefix("/api/v1/").split("/", 1)[0]
    return segment if segment in SEGMENT_MODELS else None
