"""The SLA sweep's schedule and the notices it owes, kept apart from the wide ticket row.

:class:`SlaClock` holds, per ticket with a pending SLA moment, the next moment the
sweep must look at it. It is the sweep's index: the ticket keeps every SLA field
(``sla_next_check_at`` included) as the record, but no index on ``desk_ticket``
covers a column the sweep changes on a warning, so that update is HOT (no new entry
in any of the ticket's indexes). The clock is written only where the ticket's SLA
fields are (``desk.sla.write_result`` and the sweep), in the same transaction and
under the ticket's row lock (or by the transaction that creates the ticket).

:class:`SlaNoticeBatch` is what one sweep batch owes in notifications (inbox rows and
email digests), written in the batch's transaction and delivered after commit by a
background job (``desk.tasks.deliver_sla_notices``), exactly once: a batch is
delivered under its row lock and stamped in the same transaction as the inbox rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from frontline.desk.models.scoping import is_desk_staff
from frontline.desk.models.tickets import Ticket


class SlaClockQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_desk_staff(user) else self.none()


class SlaClock(models.Model):
    """When the sweep must next look at one ticket (a row only while something is pending)."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla_clock"
    )
    next_check_at = models.DateTimeField(_("next SLA check"))

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [models.Index(fields=["next_check_at", "ticket"], name="sla_clock_due_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.next_check_at:%Y-%m-%d %H:%M}"


class SlaNoticeBatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_desk_staff(user) else self.none()

    def pending(self):
        return self.filter(delivered_at__isnull=True)


class SlaNoticeBatch(models.Model):
    """The warnings and breaches one sweep batch fired, to notify after commit.

    ``fired`` lists ``[ticket_id, "warning" | "breach", deadline (ISO 8601 or null),
    target]``; the notices (and their dedupe keys) are built from it when delivered.
    """

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    fired = models.JSONField(default=list)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = SlaNoticeBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA notice batch")
        verbose_name_plural = _("SLA notice batches")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="sla_notice_batch_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}: {len(self.fired)}"
