"""The matrix's world, built once per module (see world.py)."""

from __future__ import annotations

import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world per module, inside a transaction rolled back when the module ends."""
    from tests.security.world import World

    with django_db_blocker.unblock():
        with transaction.atomic():
            built = World()
            yield built
            transaction.set_rollback(True)
