"""SECURITY.md 21 under parallel requests (PostgreSQL, real threads): the login lockout and
the reset-email cap hold when many requests arrive at the same moment.

One request at a time is tested in accounts/tests/test_auth.py; these add the burst.
"""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from frontline.accounts.roles import Role
from frontline.accounts.views import ThrottledPasswordResetView
from frontline.testing import factories as f
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def _post(path, data, address):
    return lambda: Client(REMOTE_ADDR=address).post(path, data).status_code


def test_a_burst_of_wrong_passwords_locks_the_account_out():
    # Given an agent, and twice the failure limit of wrong passwords sent at once
    email = f"burst-{uuid.uuid4().hex[:8]}@t.example"
    f.member(Role.AGENT, email=email)
    limit = settings.AXES_FAILURE_LIMIT
    wrong = {"username": email, "password": "wrong"}
    run_together(*(_post(reverse("login"), wrong, "10.9.0.1") for _ in range(2 * limit)))
    # Then the failures were all counted on one row, and the right password is refused
    attempts = AccessAttempt.objects.filter(username=email)
    assert attempts.count() == 1
    assert attempts.get().failures_since_start >= limit
    right = Client(REMOTE_ADDR="10.9.0.1").post(
        reverse("login"), {"username": email, "password": f.PASSWORD}
    )
    assert right.status_code == 429


def test_a_burst_of_reset_requests_sends_only_the_capped_number_of_emails():
    # Given an agent, and ten reset requests for their address at the same moment
    email = f"reset-{uuid.uuid4().hex[:8]}@t.example"
    f.member(Role.AGENT, email=email)
    results = run_together(
        *(_post(reverse("password_reset"), {"email": email}, "10.9.0.2") for _ in range(10))
    )
    # Then every request gets the same answer and only the cap's worth of emails leaves
    assert set(results) == {302}, results
    sent = [m for m in mail.outbox if email in m.to]
    assert len(sent) == ThrottledPasswordResetView.per_email_limit
