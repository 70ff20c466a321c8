"""zh-Hans ships complete: every message translated, none fuzzy, and pages really switch."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

PO = (
    Path(__file__).resolve().parent.parent
    / "frontline"
    / "locale"
    / "zh_Hans"
    / "LC_MESSAGES"
    / "django.po"
)

needs_gettext = pytest.mark.skipif(
    shutil.which("msgattrib") is None, reason="GNU gettext is not installed"
)


@needs_gettext
@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_every_zh_hans_message_is_translated_and_not_fuzzy(which):
    out = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(PO)], capture_output=True, text=True, check=True
    ).stdout
    entries = [
        block
        for block in out.split("\n\n")
        if "msgid" in block and 'msgid ""\nmsgstr ""\n"' not in block
    ]
    assert entries == [], f"{len(entries)} zh-Hans entries need work:\n" + "\n\n".join(entries[:10])


@pytest.mark.django_db
def test_a_page_renders_in_chinese_for_a_user_who_prefers_it(client, cast):
    cast.dispatcher.preferred_language = "zh-hans"
    cast.dispatcher.save(update_fields=["preferred_language"])
    client.force_login(cast.dispatcher)
    html = client.get(reverse("sites:site-list")).content.decode()
    assert 'lang="zh-hans"' in html
    with translation.override("zh-hans"):
        assert translation.gettext("Sites") == "站点"
    assert "站点" in html and "新建站点" in html
