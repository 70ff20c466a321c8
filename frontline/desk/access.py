"""Who may do what on a ticket. Pure predicates shared by services, API and pages."""

from __future__ import annotations

from frontline.accounts.roles import Cap
from frontline.desk.models.scoping import customer_org_id, is_desk_staff


def may_work(user, ticket=None) -> bool:
    """Operator staff who work tickets: reply, note, transition, hand off."""
    return is_desk_staff(user) and user.has_capability(Cap.WORK_TICKETS)


def may_reassign(user) -> bool:
    """Dispatchers and managers reassign at once, without the new owner's acceptance."""
    return is_desk_staff(user) and user.has_capability(Cap.REASSIGN_TICKETS)


def may_call_fire(user) -> bool:
    return is_desk_staff(user) and user.has_capability(Cap.CALL_FIRE)


def is_ticket_customer(user, ticket) -> bool:
    """A portal user of the ticket's customer organisation."""
    return (
        user.has_capability(Cap.SUBMIT_TICKETS)
        and customer_org_id(user) is not None
        and customer_org_id(user) == ticket.customer_id
    )


def may_own(user) -> bool:
    """Only operator staff who work tickets can own one."""
    return bool(user is not None and user.is_active and may_work(user))


__all__ = [
    "is_desk_staff",
    "is_ticket_customer",
    "may_call_fire",
    "may_own",
    "may_reassign",
    "may_work",
]
