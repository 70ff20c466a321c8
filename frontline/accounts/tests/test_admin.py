"""The Django admin for accounts: pages render for a superuser, token hashes never show."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from frontline.accounts import tokens
from frontline.accounts.models import ApiToken, EngineerSkill, User
from frontline.core.models import AuditEntry
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(cast):
    user = f.UserFactory(email="root@t.example", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model", ["user", "organization", "membership", "team", "skill", "engineerskill", "apitoken"]
)
def test_changelists_render(cast, root, model):
    f.TeamFactory(name="总部组", lead=cast.engineer)
    EngineerSkill.objects.create(user=cast.engineer, skill=f.SkillFactory(), level=2)
    tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    assert root.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200


def test_user_change_and_add_pages_render(cast, root):
    assert root.get(reverse("admin:accounts_user_change", args=[cast.agent.pk])).status_code == 200
    assert root.get(reverse("admin:accounts_user_add")).status_code == 200


def test_admin_creates_a_user_with_email_login_and_audits_it(cast, root):
    response = root.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@t.example",
            "display_name": "新人",
            "usable_password": "true",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new@t.example")
    assert user.check_password("a-long-Passw0rd!")
    assert AuditEntry.objects.for_object(user).filter(verb="admin").exists()


def test_token_admin_never_shows_the_hash_and_cannot_add(cast, root):
    token, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    page = root.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert token.key_hash not in page and raw not in page and f"fl_{token.prefix}_" in page
    assert root.get(reverse("admin:accounts_apitoken_add")).status_code == 403


def test_token_admin_revokes(cast, root):
    token, _ = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    response = root.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
