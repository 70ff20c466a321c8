"""Work-order statuses, types and priorities, and the one transition table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WorkOrderStatus(models.TextChoices):
    NEW = "new", _("New")
    OFFERED = "offered", _("Offered")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    EN_ROUTE = "en_route", _("En route")
    ON_SITE = "on_site", _("On site")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


W = WorkOrderStatus

# The only place that says which status may follow which. A rejected order is back
# in the queue: it can be dispatched or offered again. An expired offer goes back to new.
TRANSITIONS: dict[str, frozenset[str]] = {
    W.NEW: frozenset({W.DISPATCHED, W.OFFERED, W.ON_HOLD, W.CANCELLED}),
    W.REJECTED: frozenset({W.NEW, W.DISPATCHED, W.OFFERED, W.ON_HOLD, W.CANCELLED}),
    W.OFFERED: frozenset({W.ACCEPTED, W.NEW, W.DISPATCHED, W.CANCELLED}),
    W.DISPATCHED: frozenset({W.ACCEPTED, W.REJECTED, W.DISPATCHED, W.NEW, W.ON_HOLD, W.CANCELLED}),
    W.ACCEPTED: frozenset({W.EN_ROUTE, W.ON_SITE, W.DISPATCHED, W.ON_HOLD, W.CANCELLED}),
    W.EN_ROUTE: frozenset({W.ON_SITE, W.DISPATCHED, W.ON_HOLD, W.CANCELLED}),
    W.ON_SITE: frozenset({W.COMPLETED, W.ON_HOLD}),
    W.ON_HOLD: frozenset({W.NEW, W.DISPATCHED, W.ACCEPTED, W.CANCELLED}),
    W.COMPLETED: frozenset({W.CLOSED, W.ON_SITE}),
    W.CLOSED: frozenset(),
    W.CANCELLED: frozenset(),
}

# Waiting for a dispatcher, an offer or the planner.
QUEUE_STATUSES = frozenset({W.NEW, W.REJECTED})
# Someone is (or will be) on it; the engineer's day is made of these.
ASSIGNED_STATUSES = frozenset({W.DISPATCHED, W.ACCEPTED, W.EN_ROUTE, W.ON_SITE})
OPEN_STATUSES = frozenset(set(W.values) - {W.COMPLETED, W.CLOSED, W.CANCELLED})
DONE_STATUSES = frozenset({W.COMPLETED, W.CLOSED, W.CANCELLED})


def allowed_next(status: str) -> list[str]:
    return sorted(TRANSITIONS.get(status, frozenset()))


def can_move(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


class WorkOrderType(models.TextChoices):
    INSTALL = "install", _("Installation")
    REPAIR = "repair", _("Repair")
    MAINTENANCE = "maintenance", _("Preventive maintenance")
    INSPECTION_FOLLOW_UP = "inspection_follow_up", _("Inspection follow-up")
    COMMISSIONING = "commissioning", _("Commissioning")
    SURVEY = "survey", _("Site survey")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 1, Priority.NORMAL: 2, Priority.HIGH: 3, Priority.URGENT: 4}


class DispatchVia(models.TextChoices):
    """How a work order reached its engineer (recorded for reports)."""

    ASSIGN = "assign", _("Dispatcher")
    GRAB = "grab", _("Grabbed")
    RULES = "rules", _("Dispatch rule")
    OPTIMISE = "optimise", _("Optimiser")
    PARTNER = "partner", _("Partner outlet")


class RuleMode(models.TextChoices):
    ASSIGN = "assign", _("Dispatcher assigns")
    GRAB = "grab", _("Offer to engineers")
    OPTIMISE = "optimise", _("Optimiser plans")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    DISPATCHED = "dispatched", _("Dispatched")
    REASSIGNED = "reassigned", _("Reassigned")
    OFFERED = "offered", _("Offered")
    CLAIMED = "claimed", _("Claimed")
    OFFER_EXPIRED = "offer_expired", _("Offer expired")
    PARTNER = "partner", _("Sent to partner outlet")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EN_ROUTE = "en_route", _("On the way")
    CHECK_IN = "check_in", _("Checked in")
    CHECK_OUT = "check_out", _("Checked out")
    CHECKLIST = "checklist", _("Checklist")
    PHOTO = "photo", _("Photo")
    SIGNATURE = "signature", _("Signed")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    ON_HOLD = "on_hold", _("On hold")
    APPOINTMENT = "appointment", _("Appointment changed")
    PLANNED = "planned", _("Planned")
    ETA = "eta", _("ETA updated")
    NOTE = "note", _("Note")
    SURVEY = "survey", _("Survey answered")


class ChecklistResult(models.TextChoices):
    PENDING = "pending", _("Not checked")
    OK = "ok", _("OK")
    FAILED = "failed", _("Not OK")
    NOT_APPLICABLE = "na", _("Not applicable")


class OfferStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("grab offer", "Open")
    CLAIMED = "claimed", _("Claimed")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
