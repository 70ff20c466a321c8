"""Sending the matrix's requests cheaply, and telling whether a denied one changed anything.

Every actor has one test client, signed in once (``force_login``: no password hashing).
Each request comes from a fresh address so that the per-address throttles (anonymous API
rate, public links) never answer 429 in place of the status the matrix expects. Writes
run inside a savepoint that is rolled back, so a write that wrongly goes through cannot
disturb the next request; while it runs, every ``post_save``/``post_delete``/
``m2m_changed`` signal is recorded, and the target row is compared before and after
(compare-and-set updates send no signal).
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from http.cookies import SimpleCookie

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.test import Client

# Rows that a denied request may legitimately write: the session itself.
IGNORED_WRITES = {"sessions.session"}

_addresses = itertools.count(1)


def fresh_address() -> str:
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class Harness:
    def __init__(self, world, actor_names):
        self.world = world
        self.clients = {"anonymous": Client()}
        for name in actor_names:
            if name == "anonymous":
                continue
            client = Client()
            client.force_login(getattr(world.actors, name))
            self.clients[name] = client
        self.requests = 0

    def send(self, actor: str, method: str, path: str):
        self.requests += 1
        client = self.clients[actor]
        cookies = client.cookies
        client.cookies = SimpleCookie(cookies)  # a logout or password change must not stick
        extra = {"REMOTE_ADDR": fresh_address(), "HTTP_ACCEPT": "text/html,application/json"}
        try:
            if method in ("get", "delete"):
                return getattr(client, method)(path, **extra)
            return getattr(client, method)(path, data={}, content_type="application/json", **extra)
        finally:
            client.cookies = cookies

    def denied_write(self, actor: str, method: str, path: str, target):
        """Send the write in a rolled-back savepoint; return (status, what it changed, Location)."""
        before = _row(target)
        with _recording_writes() as writes, transaction.atomic():
            response = self.send(actor, method, path)
            after = _row(target)
            transaction.set_rollback(True)
        changes = [w for w in writes if w not in IGNORED_WRITES]
        if target is not None and after != before:
            changes.append(f"{target._meta.label_lower} #{target.pk} updated")
        return response.status_code, changes, response.get("Location", "")


def _row(obj):
    if obj is None or not hasattr(obj, "_meta"):
        return None
    return type(obj)._base_manager.filter(pk=obj.pk).values().first()


@contextmanager
def _recording_writes():
    writes: list[str] = []

    def saved(sender, instance, created=False, **kwargs):
        writes.append(f"{sender._meta.label_lower} {'created' if created else 'saved'}")

    def deleted(sender, instance, **kwargs):
        writes.append(f"{sender._meta.label_lower} deleted")

    def m2m(sender, instance, action, **kwargs):
        if action.startswith("post_"):
            writes.append(f"{sender._meta.label_lower} {action}")

    post_save.connect(saved, weak=False, dispatch_uid="matrix-saved")
    post_delete.connect(deleted, weak=False, dispatch_uid="matrix-deleted")
    m2m_changed.connect(m2m, weak=False, dispatch_uid="matrix-m2m")
    try:
        yield writes
    finally:
        post_save.disconnect(dispatch_uid="matrix-saved")
        post_delete.disconnect(dispatch_uid="matrix-deleted")
        m2m_changed.disconnect(dispatch_uid="matrix-m2m")
