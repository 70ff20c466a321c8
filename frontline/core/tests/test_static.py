"""Static files in production: hashed names cached for good, compressed, served by WhiteNoise."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.templatetags.static import static


@pytest.fixture
def collected(settings, tmp_path):
    """The production storage, collected into a scratch STATIC_ROOT.

    Only the core app's few files: compressing every app's and vendor's files (admin,
    Swagger UI, ECharts…) would take minutes, and the headers do not depend on them.
    """
    settings.STATIC_ROOT = tmp_path
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATICFILES_DIRS = [settings.BASE_DIR / "frontline" / "core" / "static"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def _max_age(header: str) -> int:
    return int(re.search(r"max-age=(\d+)", header).group(1))


def test_a_hashed_file_is_cached_for_a_year_or_more_and_immutable(collected, client):
    url = static("frontline/favicon.svg")
    assert re.fullmatch(r"/static/frontline/favicon\.[0-9a-f]{12}\.svg", url)

    response = client.get(url, headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert _max_age(cache_control) >= 31536000


def test_the_unhashed_name_is_not_cached_for_good(collected, client):
    response = client.get("/static/frontline/favicon.svg")

    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
    assert _max_age(response["Cache-Control"]) < 3600
