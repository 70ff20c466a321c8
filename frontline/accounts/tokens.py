"""API token verbs: create (shown once), authenticate, revoke.

Tokens look like ``fl_<prefix>_<secret>``; the prefix finds the row, the SHA-256 of
the whole token is compared in constant time. The secret has 256 bits of entropy,
so a fast hash is enough (no password-style stretching needed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import ApiToken, TokenScope, User
from frontline.core import audit
from frontline.core.errors import PermissionDenied, ValidationFailed

DEFAULT_SCOPES = (TokenScope.READ.value, TokenScope.WRITE.value)
MAX_LIFETIME = dt.timedelta(days=366)
_LAST_USED_GRANULARITY = dt.timedelta(minutes=5)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    *,
    actor: User,
    user: User,
    name: str,
    scopes: list[str] | tuple[str, ...] = DEFAULT_SCOPES,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the plain token (shown once, never stored)."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied(_("You can only create tokens for yourself."))
    if not user.is_active:
        raise ValidationFailed(
            _("This user is not active."), fields={"user": [_("Inactive user.")]}
        )
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("Give the token a name.")]})
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in TokenScope.values]
    if not scopes or unknown:
        raise ValidationFailed(
            fields={
                "scopes": [
                    _("Choose scopes from: %(scopes)s.") % {"scopes": ", ".join(TokenScope.values)}
                ]
            }
        )
    now = timezone.now()
    if expires_at is None:
        expires_at = now + dt.timedelta(days=90)
    if expires_at <= now:
        raise ValidationFailed(fields={"expires_at": [_("The expiry must be in the future.")]})
    if expires_at > now + MAX_LIFETIME:
        raise ValidationFailed(fields={"expires_at": [_("A token may live at most one year.")]})

    prefix = secrets.token_hex(4)
    raw = f"fl_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=prefix,
            key_hash=_hash(raw),
            scopes=scopes,
            expires_at=expires_at,
        )
        audit.record(
            actor=actor,
            instance=token,
            action=audit.AuditAction.CREATE,
            changes={"scopes": [None, scopes], "expires_at": [None, expires_at.isoformat()]},
        )
    return token, raw


def authenticate(raw: str) -> ApiToken | None:
    parts = raw.split("_")
    if len(parts) < 3 or parts[0] != "fl" or len(raw) > 200:
        return None
    prefix = parts[1]
    token = (
        ApiToken.objects.select_related("user__membership__organization")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, _hash(raw)):
        return None
    if not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def revoke_token(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied(_("You can only revoke your own tokens."))
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db()
        if updated:
            audit.record(
                actor=actor, instance=token, action=audit.AuditAction.ACTION, verb="revoke"
            )
    return token


def mask(raw: str) -> str:
    """For logs: keep the prefix, hide the secret."""
    parts = raw.split("_")
    return f"fl_{parts[1]}_…" if len(parts) >= 3 else "…"
