"""What a phone's outbox may send, and what became of each action."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TargetType(models.TextChoices):
    WORK_ORDER = "work_order", _("Work order")
    ROUND = "round", _("Round")


class SyncKind(models.TextChoices):
    """One verb of the online API each. Photos are not here: they upload separately, after
    the data, through ``/api/v1/sync/uploads/`` with their own client id."""

    ACCEPT = "accept", _("Accept")
    REJECT = "reject", _("Reject")
    START_TRAVEL = "start_travel", _("Start travel")
    CHECK_IN = "check_in", _("Check in")
    CHECKLIST = "checklist", _("Checklist answer")
    SIGN = "sign", _("Signature")
    COMPLETE = "complete", _("Complete")
    START_ROUND = "start_round", _("Start round")
    RECORD_VISIT = "record_visit", _("Checkpoint visit")
    SKIP_POINT = "skip_point", _("Skip checkpoint")
    FINISH_ROUND = "finish_round", _("Finish round")


ROUND_KINDS = frozenset(
    {SyncKind.START_ROUND, SyncKind.RECORD_VISIT, SyncKind.SKIP_POINT, SyncKind.FINISH_ROUND}
)


def target_type_of(kind: str) -> str:
    return TargetType.ROUND if kind in ROUND_KINDS else TargetType.WORK_ORDER


class SyncStatus(models.TextChoices):
    """What became of an action. ``replayed`` is only ever an answer: a retry writes no
    row, it returns the first row's result. ``skipped`` is only an answer as well: it is
    not recorded, so the phone may send the action again once the earlier one is fixed."""

    APPLIED = "applied", _("Applied")
    REPLAYED = "replayed", _("Replayed")
    REJECTED = "rejected", _("Rejected")
    TAKEN_BACK = "taken_back", _("Taken back")
    SKIPPED = "skipped", _("Skipped")


# The statuses a stored row can have.
STORED_STATUSES = frozenset({SyncStatus.APPLIED, SyncStatus.REJECTED, SyncStatus.TAKEN_BACK})
# After one of these on a target, the batch's later actions on that target are skipped.
BLOCKING_STATUSES = frozenset({SyncStatus.REJECTED, SyncStatus.TAKEN_BACK})


class UploadPurpose(models.TextChoices):
    """What a resumable upload becomes once its last byte is in."""

    WORK_ORDER_PHOTO = "work_order_photo", _("Work order photo")
    READING_PHOTO = "reading_photo", _("Reading photo")


class UploadStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
