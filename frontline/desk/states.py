"""Ticket statuses, severities, channels and tiers, and the one transition table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting for third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


S = TicketStatus
_WORKING = {S.TRIAGED, S.IN_PROGRESS, S.WAITING_CUSTOMER, S.WAITING_THIRD_PARTY, S.RESOLVED}

# The only place that says which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset(_WORKING),
    S.TRIAGED: frozenset(_WORKING - {S.TRIAGED}),
    S.IN_PROGRESS: frozenset({S.WAITING_CUSTOMER, S.WAITING_THIRD_PARTY, S.RESOLVED}),
    S.WAITING_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.WAITING_THIRD_PARTY: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset(_WORKING),
}

# While waiting on someone else the SLA clock stops.
PAUSED_STATUSES = frozenset({S.WAITING_CUSTOMER, S.WAITING_THIRD_PARTY})
OPEN_STATUSES = frozenset(set(S.values) - {S.RESOLVED, S.CLOSED})
DONE_STATUSES = frozenset({S.RESOLVED, S.CLOSED})


def allowed_next(status: str) -> list[str]:
    return sorted(TRANSITIONS.get(status, frozenset()))


class Severity(models.TextChoices):
    S1 = "S1", _("S1 · production down")
    S2 = "S2", _("S2 · severe degradation")
    S3 = "S3", _("S3 · limited impact")
    S4 = "S4", _("S4 · question or request")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    IOT = "iot", _("IoT alarm")
    CHAT = "chat", _("Chat")


class Tier(models.TextChoices):
    BOT = "bot", _("Bot")
    L1 = "l1", _("L1 · service desk")
    L2 = "l2", _("L2 · specialists")
    L3 = "l3", _("L3 · engineering")


TIER_ORDER = [Tier.BOT, Tier.L1, Tier.L2, Tier.L3]


class SlaState(models.TextChoices):
    OK = "ok", _("On track")
    WARNING = "warning", _("Warning")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    NONE = "none", _("No SLA")


class HandOffStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    STATUS = "status", _("Status changed")
    FIELDS = "fields", _("Details changed")
    ASSIGNED = "assigned", _("Reassigned")
    HAND_OFF_REQUESTED = "hand_off_requested", _("Hand-off requested")
    HAND_OFF_ACCEPTED = "hand_off_accepted", _("Hand-off accepted")
    HAND_OFF_DECLINED = "hand_off_declined", _("Hand-off declined")
    HAND_OFF_CANCELLED = "hand_off_cancelled", _("Hand-off cancelled")
    FIRE_CALLED = "fire_called", _("Fire called")
    FIRE_JOINED = "fire_joined", _("Joined the room")
    FIRE_CLOSED = "fire_closed", _("Fire call closed")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    SLA_POLICY = "sla_policy", _("SLA policy applied")
    TIER = "tier", _("Tier changed")
    ATTACHMENT = "attachment", _("File attached")
    BRIEF = "brief", _("Bug brief written")
    RETROSPECTIVE = "retrospective", _("Retrospective written")
    PROBLEM = "problem", _("Linked to a problem")
    RATING = "rating", _("Rated")
    WATCHER = "watcher", _("Watchers changed")
    WORK_ORDER = "work_order", _("Work order opened")
