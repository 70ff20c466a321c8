"""Roles and the one table that maps each role to its capabilities.

Pages, API and services ask ``user.has_capability(Cap.X)``; nothing else
decides what a role may do.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    CUSTOMER = "customer", _("Customer")
    PARTNER = "partner", _("Partner outlet")
    SUPPLIER = "supplier", _("Supplier")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    DISPATCHER = "dispatcher", _("Dispatcher")
    AGENT = "agent", _("Service agent")
    ENGINEER = "engineer", _("Engineer")
    QUALITY_ANALYST = "quality_analyst", _("Quality analyst")
    CUSTOMER_ADMIN = "customer_admin", _("Customer administrator")
    CUSTOMER_USER = "customer_user", _("Customer user")
    PARTNER_ADMIN = "partner_admin", _("Partner administrator")
    PARTNER_ENGINEER = "partner_engineer", _("Partner engineer")
    SUPPLIER_CONTACT = "supplier_contact", _("Supplier contact")


ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganizationKind.OPERATOR: frozenset(
        {Role.ADMIN, Role.MANAGER, Role.DISPATCHER, Role.AGENT, Role.ENGINEER, Role.QUALITY_ANALYST}
    ),
    OrganizationKind.CUSTOMER: frozenset({Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER}),
    OrganizationKind.PARTNER: frozenset({Role.PARTNER_ADMIN, Role.PARTNER_ENGINEER}),
    OrganizationKind.SUPPLIER: frozenset({Role.SUPPLIER_CONTACT}),
}


class Cap:
    """Capability names. Strings so they read well in tables, tests and templates."""

    VIEW_ALL_CUSTOMERS = (
        "view_all_customers"  # operator staff: every customer's sites, projects, assets
    )
    VIEW_DIRECTORY = "view_directory"  # see organisations, people and teams beyond one's own org
    MANAGE_ORGANIZATIONS = "manage_organizations"
    MANAGE_USERS = "manage_users"  # within the limits of grantable_roles()
    MANAGE_TEAMS = "manage_teams"
    VIEW_TEAMS = "view_teams"
    MANAGE_SITES = "manage_sites"
    MANAGE_PROJECTS = "manage_projects"
    MANAGE_ASSET_MODELS = "manage_asset_models"
    MANAGE_ASSETS = "manage_assets"
    VIEW_AUDIT = "view_audit"
    USE_API_TOKENS = "use_api_tokens"
    # Service desk
    WORK_TICKETS = "work_tickets"  # take, reply, note, transition, hand off tickets of any customer
    REASSIGN_TICKETS = "reassign_tickets"  # reassign at once, without the new owner's acceptance
    CALL_FIRE = "call_fire"
    MANAGE_DESK_CONFIG = "manage_desk_config"  # SLA policies, calendars, severity levels
    MANAGE_PROBLEMS = "manage_problems"
    VIEW_DESK_REPORTS = "view_desk_reports"
    SUBMIT_TICKETS = "submit_tickets"  # customers, through the portal
    # Field service
    VIEW_WORK_ORDERS = "view_work_orders"  # see work orders within one's scope
    DISPATCH_WORK = "dispatch_work"  # create, dispatch, offer, reassign, close, cancel; run plans
    DO_FIELD_WORK = "do_field_work"  # accept, travel, check in, complete one's own; claim offers
    MANAGE_ENGINEERS = "manage_engineers"  # profiles, certifications, shifts and leave
    MANAGE_DISPATCH_RULES = "manage_dispatch_rules"
    # Inspections
    VIEW_INSPECTIONS = "view_inspections"  # routes, rounds, anomalies, analysis within scope
    MANAGE_ROUTES = "manage_routes"  # routes, checkpoints, items, schedules, SOPs, imports
    HANDLE_ANOMALIES = "handle_anomalies"  # confirm, dismiss, mark handled, open follow-up
    REVIEW_QUALITY = "review_quality"  # adjust a round's quality score with a reason
    # Incentives
    MANAGE_POINT_RULES = "manage_point_rules"
    APPROVE_REDEMPTIONS = "approve_redemptions"  # approve coin redemptions, payroll export
    VIEW_LEADERBOARD = "view_leaderboard"
    ASSIGN_PARTNER_WORK = "assign_partner_work"  # an outlet admin assigns its orders on


_STAFF = {
    Cap.VIEW_ALL_CUSTOMERS,
    Cap.VIEW_DIRECTORY,
    Cap.VIEW_TEAMS,
    Cap.VIEW_AUDIT,
    Cap.USE_API_TOKENS,
    # Every operator user can call for fire: the front line pulls the company in.
    Cap.CALL_FIRE,
}
_DESK_WORK = {Cap.WORK_TICKETS}
_FIELD_LEAD = {Cap.VIEW_WORK_ORDERS, Cap.DISPATCH_WORK, Cap.MANAGE_ENGINEERS}
_INSPECT = {Cap.VIEW_INSPECTIONS, Cap.VIEW_LEADERBOARD}
_INSPECT_LEAD = _INSPECT | {
    Cap.MANAGE_ROUTES,
    Cap.HANDLE_ANOMALIES,
    Cap.REVIEW_QUALITY,
    Cap.MANAGE_POINT_RULES,
    Cap.APPROVE_REDEMPTIONS,
}
_DESK_LEAD = {Cap.WORK_TICKETS, Cap.REASSIGN_TICKETS, Cap.MANAGE_PROBLEMS, Cap.VIEW_DESK_REPORTS}

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        _STAFF
        | {
            Cap.MANAGE_ORGANIZATIONS,
            Cap.MANAGE_USERS,
            Cap.MANAGE_TEAMS,
            Cap.MANAGE_SITES,
            Cap.MANAGE_PROJECTS,
            Cap.MANAGE_ASSET_MODELS,
            Cap.MANAGE_ASSETS,
            Cap.MANAGE_DESK_CONFIG,
            Cap.MANAGE_DISPATCH_RULES,
        }
        | _DESK_LEAD
        | _FIELD_LEAD
        | _INSPECT_LEAD
    ),
    Role.MANAGER: frozenset(
        _STAFF
        | {
            Cap.MANAGE_TEAMS,
            Cap.MANAGE_SITES,
            Cap.MANAGE_PROJECTS,
            Cap.MANAGE_ASSET_MODELS,
            Cap.MANAGE_ASSETS,
            Cap.MANAGE_DISPATCH_RULES,
        }
        | _DESK_LEAD
        | _FIELD_LEAD
        | _INSPECT_LEAD
    ),
    Role.DISPATCHER: frozenset(
        _STAFF
        | {Cap.MANAGE_SITES, Cap.MANAGE_ASSETS, Cap.REASSIGN_TICKETS, Cap.HANDLE_ANOMALIES}
        | _DESK_WORK
        | _FIELD_LEAD
        | _INSPECT
    ),
    Role.AGENT: frozenset(
        _STAFF | _DESK_WORK | _INSPECT | {Cap.MANAGE_PROBLEMS, Cap.VIEW_WORK_ORDERS}
    ),
    Role.ENGINEER: frozenset(
        _STAFF
        | {Cap.MANAGE_ASSETS, Cap.VIEW_WORK_ORDERS, Cap.DO_FIELD_WORK}
        | _DESK_WORK
        | _INSPECT
    ),
    Role.QUALITY_ANALYST: frozenset(
        _STAFF
        | _INSPECT
        | {
            Cap.VIEW_DESK_REPORTS,
            Cap.VIEW_WORK_ORDERS,
            Cap.HANDLE_ANOMALIES,
            Cap.REVIEW_QUALITY,
        }
    ),
    Role.CUSTOMER_ADMIN: frozenset(
        {
            Cap.MANAGE_USERS,
            Cap.USE_API_TOKENS,
            Cap.SUBMIT_TICKETS,
            Cap.VIEW_WORK_ORDERS,
            Cap.VIEW_INSPECTIONS,
        }
    ),
    Role.CUSTOMER_USER: frozenset(
        {Cap.USE_API_TOKENS, Cap.SUBMIT_TICKETS, Cap.VIEW_WORK_ORDERS, Cap.VIEW_INSPECTIONS}
    ),
    Role.PARTNER_ADMIN: frozenset(
        {
            Cap.MANAGE_USERS,
            Cap.VIEW_TEAMS,
            Cap.MANAGE_TEAMS,
            Cap.USE_API_TOKENS,
            Cap.VIEW_WORK_ORDERS,
            Cap.ASSIGN_PARTNER_WORK,
            Cap.DO_FIELD_WORK,
            Cap.VIEW_LEADERBOARD,
        }
    ),
    Role.PARTNER_ENGINEER: frozenset(
        {
            Cap.VIEW_TEAMS,
            Cap.USE_API_TOKENS,
            Cap.VIEW_WORK_ORDERS,
            Cap.DO_FIELD_WORK,
            Cap.VIEW_LEADERBOARD,
        }
    ),
    Role.SUPPLIER_CONTACT: frozenset({Cap.USE_API_TOKENS}),
}

# Which roles a user with this role may give to others (in their own organisation,
# except the operator admin who administers every organisation).
GRANTABLE: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Role.values),
    Role.CUSTOMER_ADMIN: frozenset({Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER}),
    Role.PARTNER_ADMIN: frozenset({Role.PARTNER_ADMIN, Role.PARTNER_ENGINEER}),
}


def capabilities_for(role: str | None) -> frozenset[str]:
    return CAPABILITIES.get(role or "", frozenset())


def grantable_roles(role: str | None) -> frozenset[str]:
    return GRANTABLE.get(role or "", frozenset())


def role_fits_kind(role: str, kind: str) -> bool:
    return role in ROLES_BY_KIND.get(kind, frozenset())
