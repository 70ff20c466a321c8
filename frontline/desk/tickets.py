"""Ticket verbs. INTERFACE FOR THE PARALLEL BUILD — the tickets engineer replaces every body.

Every function: keyword-only arguments, inside transaction.atomic(), row lock on the
ticket (frontline.core.locks.lock), checks (frontline.desk.access), writes TicketEvent(s)
via frontline.desk.events.record_event, calls frontline.desk.sla.recompute(ticket, now=…)
after any change that matters to the SLA, notifies through
frontline.notifications.services.notify (scheduled on commit), raises
frontline.core.errors.{ValidationFailed, PermissionDenied, NotFound, Conflict}.
"""

from __future__ import annotations

# Signatures (implemented by the tickets engineer):
#
# create_ticket(*, actor, title, description="", customer=None, contact=None, project=None,
#               site=None, asset=None, channel=Channel.PORTAL, category=None, tags=(),
#               severity=Severity.S3, team=None, owner=None, external_ref="", files=()) -> Ticket
# take_ticket(*, actor, ticket) -> Ticket
# reply(*, actor, ticket, body, files=()) -> TicketEvent
# add_note(*, actor, ticket, body, files=()) -> TicketEvent
# transition(*, actor, ticket, to_status, comment="") -> Ticket
# update_ticket(*, actor, ticket, **changes) -> Ticket
# request_hand_off(*, actor, ticket, to_user, message="") -> HandOff
# accept_hand_off(*, actor, hand_off) -> Ticket
# decline_hand_off(*, actor, hand_off, reason) -> HandOff
# cancel_hand_off(*, actor, hand_off) -> HandOff
# reassign(*, actor, ticket, to_user, reason="") -> Ticket
# watch(*, actor, ticket, watching=True) -> Ticket
# attach_files(*, actor, ticket, files, public=True) -> list[Attachment]
# confirm_resolution(*, actor, ticket) -> Ticket
# reopen(*, actor, ticket, reason) -> Ticket
# rate(*, actor, ticket, rating, comment="") -> Ticket
