"""SLA engine. INTERFACE FOR THE PARALLEL BUILD — the SLA engineer replaces this module.

recompute(ticket, *, now=None) -> None
    Called by every ticket service after a change that matters (create, staff reply,
    status, severity, project/policy change). Opens/closes SlaPause rows from the
    ticket's status, picks the SlaPolicy (project × severity), and stores the due
    timestamps, sla_state, sla_warning_at and sla_next_check_at on the ticket (saves
    the ticket's SLA fields itself).
explain(ticket) -> list[dict]
    Rows for the SLA timeline on the ticket page.
"""

from __future__ import annotations


def recompute(ticket, *, now=None) -> None:
    """Placeholder until the SLA engine lands: tickets without SLA keep sla_state "none"."""


def explain(ticket) -> list[dict]:
    return []
