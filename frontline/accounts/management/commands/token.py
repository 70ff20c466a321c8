"""``frontline token create|revoke|list``: API tokens from the console.

The command acts as the token's owner (the same service as the API and pages), so
the usual rules apply: scopes from the allowlist, an expiry in the future and at
most a year away. ``create`` prints the token alone on its last line, for scripts.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from frontline.accounts import tokens
from frontline.accounts.models import ApiToken, TokenScope, User
from frontline.core.errors import DomainError

_RELATIVE = re.compile(r"^(\d{1,4})d$")


def parse_expiry(raw: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """``30d`` (days from now) or ``2027-01-31`` (valid through that day, in the site's time zone)."""
    now = now or timezone.now()
    raw = raw.strip()
    match = _RELATIVE.match(raw)
    if match:
        days = int(match.group(1))
        if days < 1:
            raise CommandError("--expires must be at least 1d.")
        return now + dt.timedelta(days=days)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"--expires must be a date like 2027-01-31 or a number of days like 30d, not {raw!r}."
        )
    tz = timezone.get_default_timezone()
    expires = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    if expires <= now:
        raise CommandError(f"--expires {raw} is in the past.")
    return expires


def parse_scopes(raw: str) -> list[str]:
    scopes = [s.strip() for s in raw.split(",") if s.strip()]
    bad = [s for s in scopes if s not in TokenScope.values]
    if not scopes or bad:
        raise CommandError(
            f"Unknown scope {', '.join(bad) or '(none given)'}; choose from: {', '.join(TokenScope.values)}."
        )
    return scopes


def _describe(error: DomainError) -> str:
    parts = [str(error.message)]
    parts += [f"{name}: {'; '.join(msgs)}" for name, msgs in error.fields.items()]
    return " ".join(parts)


class Command(BaseCommand):
    help = "Create, revoke and list API tokens. `create` prints the token alone on its last line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token for a user (shown once).")
        create.add_argument("email")
        create.add_argument("--name", default="cli", help="What uses the token.")
        create.add_argument("--scopes", default="read,write", help="Comma-separated: read,write.")
        create.add_argument("--expires", default="90d", help="2027-01-31 or 30d (default 90d).")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix (fl_<prefix>_…).")
        revoke.add_argument("prefix")
        listing = sub.add_parser("list", help="List a user's tokens (never the tokens themselves).")
        listing.add_argument("email")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "create":
            self.create(options)
        elif action == "revoke":
            self.revoke(options["prefix"])
        else:
            self.list(options["email"])

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email address {email!r}.")
        return user

    def create(self, options):
        user = self._user(options["email"])
        scopes = parse_scopes(options["scopes"])
        expires_at = parse_expiry(options["expires"])
        try:
            token, raw = tokens.create_token(
                actor=user, user=user, name=options["name"], scopes=scopes, expires_at=expires_at
            )
        except DomainError as exc:
            raise CommandError(_describe(exc))
        local = timezone.localtime(token.expires_at, timezone.get_default_timezone())
        self.stdout.write(
            f"Token {token.name!r} for {user.email}: scopes {','.join(token.scopes)}, "
            f"expires {local:%Y-%m-%d %H:%M} ({settings.TIME_ZONE}). It is shown only now:"
        )
        self.stdout.write(raw)

    def revoke(self, prefix: str):
        prefix = prefix.strip()
        if prefix.startswith("fl_"):
            prefix = prefix.split("_")[1] if prefix.count("_") >= 1 else ""
        token = (
            ApiToken.objects.select_related("user").filter(prefix=prefix).first()
            if prefix
            else None
        )
        if token is None:
            raise CommandError(f"No token with the prefix {prefix!r}.")
        was_revoked = token.revoked_at is not None
        try:
            tokens.revoke_token(actor=token.user, token=token)
        except DomainError as exc:
            raise CommandError(_describe(exc))
        note = "was already revoked" if was_revoked else "revoked"
        self.stdout.write(f"Token fl_{token.prefix}_… ({token.name}) of {token.user.email} {note}.")

    def list(self, email: str):
        user = self._user(email)
        rows = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
        if not rows:
            self.stdout.write(f"{user.email} has no API tokens.")
            return
        for token in rows:
            status = "revoked" if token.revoked_at else ("active" if token.is_usable else "expired")
            expires = (
                f"{timezone.localtime(token.expires_at):%Y-%m-%d}" if token.expires_at else "never"
            )
            used = (
                f"{timezone.localtime(token.last_used_at):%Y-%m-%d %H:%M}"
                if token.last_used_at
                else "never"
            )
            self.stdout.write(
                f"fl_{token.prefix}_…  {token.name}  [{','.join(token.scopes)}]  "
                f"expires {expires}  last used {used}  {status}"
            )
