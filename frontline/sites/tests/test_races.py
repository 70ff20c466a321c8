"""Races on PostgreSQL with real threads: a lost race is a 400-style error, never a 500 or bad data."""

from __future__ import annotations

import threading

import pytest

from frontline.core.errors import ValidationFailed
from frontline.sites import services
from frontline.sites.models import Asset, Site
from frontline.testing import factories as f
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_two_requests_adding_the_same_site_name_give_one_site_and_one_field_error(
    cast, monkeypatch
):
    # Given both requests pass the duplicate pre-check before either inserts
    barrier = threading.Barrier(2, timeout=10)
    check = services._validate_site

    def validate_then_wait(**kwargs):
        check(**kwargs)
        barrier.wait()

    monkeypatch.setattr(services, "_validate_site", validate_then_wait)

    def add():
        return services.create_site(actor=cast.manager, customer=cast.customer_a, name="同名厂区")

    # When they insert at the same time
    results = run_together(add, add)

    # Then one site exists and the loser got the same field error as a plain duplicate
    assert Site.objects.filter(name="同名厂区").count() == 1
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ValidationFailed), results
    assert "name" in errors[0].fields


def test_crossed_part_of_moves_cannot_make_a_cycle(cast, monkeypatch):
    # Given two assets at one site, and two requests that both hold their own asset's lock
    site = f.SiteFactory(customer=cast.customer_a)
    a = f.AssetFactory(site=site)
    b = f.AssetFactory(site=site)
    barrier = threading.Barrier(2, timeout=10)
    lock = services._lock_hierarchy

    def wait_then_lock(site_id):
        barrier.wait()
        return lock(site_id)

    monkeypatch.setattr(services, "_lock_hierarchy", wait_then_lock)

    # When one request puts A into B while another puts B into A
    results = run_together(
        lambda: services.update_asset(actor=cast.manager, asset=a, parent=b),
        lambda: services.update_asset(actor=cast.manager, asset=b, parent=a),
    )

    # Then exactly one move wins and the other is refused as a cycle
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ValidationFailed), results
    assert "parent" in errors[0].fields
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.parent_id, b.parent_id) in {(b.pk, None), (None, a.pk)}
    assert Asset.objects.filter(parent__isnull=False).count() == 1
