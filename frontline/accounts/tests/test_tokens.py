"""API tokens: Bearer only, scoped, expiring, revocable, stored hashed, shown once; and the console command."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from frontline.accounts import tokens
from frontline.accounts.models import ApiToken, Team
from frontline.core.models import AuditEntry
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_bearer_token_authenticates_as_its_user(cast):
    _, raw = tokens.create_token(actor=cast.manager, user=cast.manager, name="bms")
    response = bearer(raw).get("/api/v1/me/")
    assert response.status_code == 200 and response.json()["id"] == cast.manager.pk


def test_read_only_token_cannot_write(cast):
    _, raw = tokens.create_token(actor=cast.manager, user=cast.manager, name="ro", scopes=["read"])
    client = bearer(raw)
    assert client.get("/api/v1/teams/").status_code == 200
    response = client.post(
        "/api/v1/teams/", {"organization": cast.operator.pk, "name": "新组"}, format="json"
    )
    assert response.status_code == 403
    assert not Team.objects.filter(name="新组").exists()


def test_write_token_can_write(cast):
    _, raw = tokens.create_token(actor=cast.manager, user=cast.manager, name="rw")
    response = bearer(raw).post(
        "/api/v1/teams/", {"organization": cast.operator.pk, "name": "新组"}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "case", ["revoked", "expired", "garbage", "wrong-secret", "inactive-user", "empty"]
)
def test_unusable_tokens_are_401(cast, case):
    token, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    if case == "revoked":
        tokens.revoke_token(actor=cast.agent, token=token)
    elif case == "expired":
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    elif case == "garbage":
        raw = "not-a-token"
    elif case == "wrong-secret":
        raw = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    elif case == "inactive-user":
        type(cast.agent).objects.filter(pk=cast.agent.pk).update(is_active=False)
    elif case == "empty":
        raw = ""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}".strip())
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "detail", "fields"}


@pytest.mark.parametrize("param", ["token", "access_token", "api_key", "ACCESS_TOKEN"])
def test_token_in_the_query_string_is_401(cast, param):
    _, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    assert APIClient().get(f"/api/v1/me/?{param}={raw}").status_code == 401
    # Even next to a valid header: a URL that carries a token is refused outright.
    assert bearer(raw).get(f"/api/v1/me/?{param}={raw}").status_code == 401


def test_only_the_hash_is_stored(cast):
    token, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in {str(v) for v in stored.values()}
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    for entry in AuditEntry.objects.for_object(token):
        assert raw not in str(entry.changes)


def test_token_is_shown_once_by_the_api(cast, api):
    client = api.as_user(cast.agent)
    response = client.post("/api/v1/tokens/", {"name": "脚本", "scopes": ["read"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert raw.startswith(f"fl_{body['prefix']}_") and body["scopes"] == ["read"]
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    # Never again: not in the list, not in the detail, not in the revoke response.
    for text in [
        client.get("/api/v1/tokens/").content,
        client.get(f"/api/v1/tokens/{token.pk}/").content,
        client.post(f"/api/v1/tokens/{token.pk}/revoke/").content,
    ]:
        assert raw.encode() not in text
        assert token.key_hash.encode() not in text
        assert b"key_hash" not in text


def test_revoke_via_api_stops_the_token(cast, api):
    token, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    assert bearer(raw).get("/api/v1/me/").status_code == 200
    response = api.as_user(cast.agent).post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert bearer(raw).get("/api/v1/me/").status_code == 401


def test_nobody_revokes_someone_elses_token(cast, api):
    token, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    assert api.as_user(cast.admin).post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_token_cannot_mint_tokens(cast):
    _, raw = tokens.create_token(actor=cast.agent, user=cast.agent, name="x")
    response = bearer(raw).post("/api/v1/tokens/", {"name": "child"}, format="json")
    assert response.status_code == 403
    assert not ApiToken.objects.filter(name="child").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "scopes": ["admin"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
        ({"name": ""}, "name"),
        ({"name": "x", "key_hash": "0" * 64}, "key_hash"),
        ({"name": "x", "user": 1}, "user"),
    ],
)
def test_bad_token_requests_are_400(cast, api, payload, field):
    response = api.as_user(cast.agent).post("/api/v1/tokens/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not ApiToken.objects.exists()


def test_outsider_without_the_capability_cannot_create_tokens(cast, api):
    response = api.as_user(cast.outsider).post("/api/v1/tokens/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


# ---------------------------------------------------------------- the console command


def run(*args) -> str:
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def test_token_create_prints_a_working_token_on_its_last_line(cast):
    output = run(
        "create",
        "Dispatcher@T.example",
        "--name",
        "bms sync",
        "--scopes",
        "read",
        "--expires",
        "30d",
    )
    raw = output.strip().splitlines()[-1]
    assert raw.startswith("fl_")
    token = ApiToken.objects.get()
    assert token.user == cast.dispatcher and token.scopes == ["read"] and token.name == "bms sync"
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    response = bearer(raw).get("/api/v1/me/")
    assert response.status_code == 200 and response.json()["id"] == cast.dispatcher.pk
    assert AuditEntry.objects.for_object(token).get().actor == cast.dispatcher


def test_token_create_with_a_date_is_valid_through_that_day(cast):
    day = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    run("create", "agent@t.example", "--expires", day)
    token = ApiToken.objects.get()
    assert timezone.localtime(token.expires_at).date().isoformat() > day


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nobody@t.example"], "No user"),
        (["create", "agent@t.example", "--scopes", "read,admin"], "scope"),
        (["create", "agent@t.example", "--expires", "2001-01-01"], "past"),
        (["create", "agent@t.example", "--expires", "tomorrow"], "--expires"),
        (["create", "agent@t.example", "--expires", "0d"], "--expires"),
        (["create", "agent@t.example", "--expires", "900d"], "year"),
        (["revoke", "deadbeef"], "No token"),
        (["list", "nobody@t.example"], "No user"),
    ],
)
def test_token_command_errors_are_clear(cast, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ApiToken.objects.exists()


def test_token_revoke_and_list(cast):
    raw = run("create", "agent@t.example", "--name", "cli").strip().splitlines()[-1]
    prefix = ApiToken.objects.get().prefix
    listing = run("list", "agent@t.example")
    assert f"fl_{prefix}_" in listing and "active" in listing and raw not in listing
    run("revoke", f"fl_{prefix}_…")
    assert bearer(raw).get("/api/v1/me/").status_code == 401
    assert "revoked" in run("list", "agent@t.example")
    assert "already revoked" in run("revoke", prefix)


def test_purge_task_removes_long_expired_tokens(cast):
    from frontline.accounts.tasks import purge_expired_tokens

    old, _ = tokens.create_token(actor=cast.agent, user=cast.agent, name="old")
    fresh, _ = tokens.create_token(actor=cast.agent, user=cast.agent, name="fresh")
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(days=40))
    assert purge_expired_tokens() == 1
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["fresh"]
    f.UserFactory()  # unrelated rows are untouched
