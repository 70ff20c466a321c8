"""The production profile: `check --deploy` is clean, and a missing secret stops the start."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
# Variables that would make the child differ from a fresh production shell.
_STRIP = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FRONTLINE_ENV",
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def _random_secret(length: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    child_env = {
        k: v for k, v in os.environ.items() if k not in _STRIP and not k.startswith("PYTEST_")
    }
    child_env.update({"FRONTLINE_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.BASE_DIR,
    )


def test_deploy_check_is_clean_in_production(tmp_path):
    result = _manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        FRONTLINE_ENV="production",
        SECRET_KEY=_random_secret(),
        ALLOWED_HOSTS="frontline.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _manage(
        tmp_path, "check", FRONTLINE_ENV="production", ALLOWED_HOSTS="frontline.example.com"
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start(tmp_path):
    result = _manage(tmp_path, "check", FRONTLINE_ENV="production", SECRET_KEY=_random_secret())

    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_defaults_are_hardened(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.PASSWORD_HASHERS[0].endswith('Argon2PasswordHasher'))"
    )
    result = _manage(
        tmp_path,
        "shell",
        "-c",
        code,
        FRONTLINE_ENV="production",
        SECRET_KEY=_random_secret(),
        ALLOWED_HOSTS="frontline.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == ["False", "True", "True", "True", "True", "True"]


@pytest.mark.parametrize("value", ["staging", "prod"])
def test_unknown_profile_refuses_to_start(tmp_path, value):
    result = _manage(tmp_path, "check", FRONTLINE_ENV=value)

    assert result.returncode != 0
    assert "FRONTLINE_ENV must be" in result.stderr
