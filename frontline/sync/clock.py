"""Is the phone's clock plausible? Flags only: the action is still applied (the services
that take a device time refuse one too far ahead or too far back on their own).

A device time is flagged when it is
- more than ``FUTURE_SLACK`` (5 minutes) ahead of receipt: no phone does work in the
  future;
- more than ``PAST_LIMIT`` (30 days) before receipt: no outbox waits that long;
- more than ``BACKWARDS_TOLERANCE`` (1 minute) before the same device's previous action
  (the previous one in the batch, or for the first, the device's last stored action): an
  outbox is sent in the order the work was done, so going backwards means the clock was
  changed in between.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FUTURE_SLACK = dt.timedelta(minutes=5)
PAST_LIMIT = dt.timedelta(days=30)
BACKWARDS_TOLERANCE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ClockCheck:
    skew_seconds: int
    flagged: bool


def check(device_at: dt.datetime, received_at: dt.datetime, previous: dt.datetime | None):
    skew = device_at - received_at
    flagged = (
        skew > FUTURE_SLACK
        or -skew > PAST_LIMIT
        or (previous is not None and device_at < previous - BACKWARDS_TOLERANCE)
    )
    return ClockCheck(skew_seconds=round(skew.total_seconds()), flagged=flagged)
