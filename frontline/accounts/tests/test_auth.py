"""Signing in, lockout without enumeration, password reset and change pages."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from frontline.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"')


def login(client: Client, email: str, password: str):
    return client.post(reverse("login"), {"username": email, "password": password})


def normalised(response) -> str:
    return CSRF.sub(r"\1CSRF", response.content.decode())


def test_login_page_has_email_password_and_submit():
    text = Client().get(reverse("login")).content.decode()
    assert 'name="username"' in text and 'type="email"' in text
    assert 'name="password"' in text and 'type="submit"' in text and "csrfmiddlewaretoken" in text


def test_right_password_signs_in(cast):
    client = Client()
    response = login(client, "Agent@T.example", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(cast):
    wrong = login(Client(), "agent@t.example", "nope")
    unknown = login(Client(), "nobody@t.example", "nope")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_lockout_refuses_the_right_password_and_does_not_enumerate(cast):
    limit = settings.AXES_FAILURE_LIMIT
    known, unknown = Client(), Client()
    for _ in range(limit):
        login(known, "agent@t.example", "wrong")
        login(unknown, "ghost@t.example", "wrong")
    # Then the right password is refused too …
    refused = login(known, "agent@t.example", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in known.session
    assert known.get(reverse("accounts:profile")).status_code == 302
    # … and an unknown address gets exactly the same answer.
    ghost = login(unknown, "ghost@t.example", PASSWORD)
    assert ghost.status_code == refused.status_code
    assert normalised(ghost) == normalised(refused)
    assert "agent@t.example" not in refused.content.decode()


def test_password_reset_mail_uses_site_url_and_clean_headers(cast, settings):
    settings.SITE_URL = "https://frontline.example.com"
    client = Client(HTTP_HOST="localhost")
    response = client.post(reverse("password_reset"), {"email": "agent@t.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@t.example"] and not message.cc and not message.bcc
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "https://frontline.example.com/accounts/reset/" in message.body
    assert "localhost" not in message.body


def test_password_reset_for_unknown_or_injected_address_sends_nothing(cast):
    client = Client()
    unknown = client.post(reverse("password_reset"), {"email": "ghost@t.example"})
    known = client.post(reverse("password_reset"), {"email": "agent@t.example"})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    mail.outbox.clear()
    injected = client.post(
        reverse("password_reset"), {"email": "agent@t.example\r\nBcc: evil@x.example"}
    )
    assert injected.status_code == 200  # the form refuses it
    assert mail.outbox == []


def test_password_reset_pages_render(cast):
    client = Client()
    for name in ["password_reset", "password_reset_done", "password_reset_complete"]:
        assert client.get(reverse(name)).status_code == 200
    bad = client.get(
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"})
    )
    assert bad.status_code == 200 and not bad.context["validlink"]


def test_password_change(cast):
    client = Client()
    client.force_login(cast.agent)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-fresh-Passw0rd!",
            "new_password2": "a-fresh-Passw0rd!",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("password_change_done")).status_code == 200
    cast.agent.refresh_from_db()
    assert cast.agent.check_password("a-fresh-Passw0rd!")


def test_logout_and_logged_out_template(cast):
    client = Client()
    client.force_login(cast.agent)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302
    assert "Signed out" in render_to_string("registration/logged_out.html")


def test_throttled_reset_view_caps_emails_per_address_silently(cast):
    from django.core.cache import cache
    from django.test import RequestFactory

    from frontline.accounts.views import ThrottledPasswordResetView

    cache.clear()
    view = ThrottledPasswordResetView.as_view()
    statuses = []
    for _ in range(ThrottledPasswordResetView.per_email_limit + 2):
        request = RequestFactory().post("/accounts/password_reset/", {"email": "agent@t.example"})
        request._dont_enforce_csrf_checks = True
        response = view(request)
        statuses.append((response.status_code, response["Location"]))
    assert len(set(statuses)) == 1 and statuses[0][0] == 302
    assert len(mail.outbox) == ThrottledPasswordResetView.per_email_limit
    cache.clear()
