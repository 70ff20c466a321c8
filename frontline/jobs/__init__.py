"""The job outbox: ``jobs.enqueue`` a background job in the caller's transaction.

The functions live in ``frontline.jobs.services``; these thin wrappers let callers
write ``from frontline import jobs; jobs.enqueue(...)`` without importing models
while apps load.
"""

from __future__ import annotations


def enqueue(task, *, args=(), key=None, atomic=False):
    from frontline.jobs.services import enqueue as _enqueue

    return _enqueue(task, args=args, key=key, atomic=atomic)


def relay_pending(**kwargs) -> int:
    from frontline.jobs.services import relay_pending as _relay

    return _relay(**kwargs)


def publish_on_commit(task, *, args=()) -> None:
    from frontline.jobs.services import publish_on_commit as _publish

    _publish(task, args=args)
