"""Calls for fire. INTERFACE FOR THE PARALLEL BUILD — the fire/notifications engineer replaces this.

call_fire(*, actor, ticket, level, message) -> FireCall
join_fire(*, actor, fire_call) -> FireSummons
close_fire_calls(*, actor, ticket) -> None          # called when the ticket is resolved
write_brief(*, actor, ticket, symptom, impact, scope, workaround, root_cause, fix, prevention) -> BugBrief
summoned_users(level) -> QuerySet[User]
"""

from __future__ import annotations


def close_fire_calls(*, actor, ticket) -> None:
    """Placeholder until fire calls land."""
