"""Which object each URL's path parameters name (the world's kinds, see ``world.py``).

``pk`` depends on the URL; the other parameter names mean the same everywhere. The
first matching rule wins; a URL with a parameter no rule explains fails the matrix.
"""

from __future__ import annotations

import re

OTHER_PARAMS = {
    "offer_id": "offer",
    "checkpoint_id": "checkpoint",
    "item_id": "check_item",
    "verb": "verb",
    "uidb64": "reset_uid",
    "client_id": "upload_id",
}

# (URL name pattern, kind of its pk / token)
PK_RULES: list[tuple[str, str]] = [
    # accounts
    (r"^accounts:team-", "team"),
    (r"^accounts:token-", "token"),
    (r"^api-v1:organization-", "organization"),
    (r"^api-v1:user-", "user"),
    (r"^api-v1:membership-", "membership"),
    (r"^api-v1:team-", "team"),
    (r"^api-v1:token-", "token"),
    (r"^password_reset_confirm$", "reset_token"),
    # sites
    (r"^(sites|api-v1):site-", "site"),
    (r"^(sites|api-v1):project-", "project"),
    (r"^api-v1:asset-model-", "asset_model"),
    (r"^(sites|api-v1):asset-", "asset"),
    # desk
    (r"^desk:(ticket-|portal-|sla-ticket-timeline|retrospective-edit|fire-join)", "ticket"),
    (r"^api-v1:(ticket-|ticket-retrospective)", "ticket"),
    (r"^(desk|api-v1):severity-level-", "severity_level"),
    (r"^(desk|api-v1):sla-policy-", "sla_policy"),
    (r"^desk:sla-calendar-|^api-v1:business-calendar-", "calendar"),
    (r"^(desk|api-v1):problem-", "problem"),
    (r"^desk:retrospective-action-|^api-v1:retrospective-action-", "retrospective_action"),
    (r"^api-v1:attachment-", "attachment"),
    # field
    (r"^field:photo-download$|^api-v1:work-order-photo-", "photo"),
    (r"^field:(work-order-|signature-|board-|mobile-|portal-work-order-)", "work_order"),
    (r"^api-v1:work-order-", "work_order"),
    (r"^(field|api-v1):engineer-", "engineer"),
    (r"^field:rule-|^api-v1:dispatch-rule-", "dispatch_rule"),
    (r"^api-v1:offer-", "offer"),
    (r"^api-v1:survey-", "survey"),
    (r"^(field|api-v1):public-timeline$", "timeline_token"),
    (r"^(field|api-v1):public-survey$", "survey_token"),
    # dispatch
    (r"^(dispatch|api-v1):plan-", "plan"),
    # inspections
    # A new checkpoint is added to a route (routes/<pk>/checkpoints/new/).
    (r"^inspections:checkpoint-create$", "route"),
    (r"^inspections:(checkpoint-|item-create)", "checkpoint"),
    (r"^inspections:item-", "check_item"),
    (r"^inspections:schedule-create$", "route"),
    (r"^(inspections|api-v1):schedule-", "schedule"),
    (r"^(inspections|api-v1):(route-|analysis-route)", "route"),
    (r"^(inspections|api-v1):sop-", "sop"),
    (r"^(inspections|api-v1):quality-scheme-", "quality_scheme"),
    (r"^inspections:(round-|mobile-round|analysis-round)|^api-v1:round-", "round"),
    (r"^(inspections|api-v1):anomaly-", "anomaly"),
    # incentives
    (r"^incentives:rule-|^api-v1:point-rule-", "point_rule"),
    (r"^api-v1:point-", "ledger_entry"),
    (r"^(incentives|api-v1):redemption-", "redemption"),
    # notifications
    (r"^notifications:mark-|^api-v1:notification-", "notification"),
]


def param_kind(route_name: str, param: str) -> str | None:
    if param in OTHER_PARAMS:
        return OTHER_PARAMS[param]
    for pattern, kind in PK_RULES:
        if re.search(pattern, route_name):
            return kind
    return None


def path_values(world, route, side: str) -> dict:
    """The values of ``route``'s parameters for the object of ``side`` ("a" or "b")."""
    values = {}
    for param in route.params:
        obj = world.obj(param_kind(route.name, param), side)
        values[param] = obj if isinstance(obj, str) else obj.pk
    return values
