"""Files stored inside a block that fails are removed again (frontline.core.files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import models
from django.db.models.fields.files import FieldFile

from frontline.core import files


class Boom(Exception):
    pass


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored(media: Path) -> list[str]:
    return sorted(p.name for p in media.rglob("*") if p.is_file())


def a_file(name: str) -> FieldFile:
    class Holder:
        pass

    field = models.FileField(upload_to="t/")
    field.set_attributes_from_name("file")
    file = FieldFile(Holder(), field, None)
    files.save(file, name, ContentFile(b"bytes"))
    return file


def test_a_block_that_fails_removes_what_it_stored(media):
    with pytest.raises(Boom), files.removed_on_failure():
        a_file("a.txt")
        a_file("b.txt")
        assert stored(media) == ["a.txt", "b.txt"]
        raise Boom
    assert stored(media) == []


def test_a_block_that_succeeds_keeps_its_files(media):
    with files.removed_on_failure():
        a_file("a.txt")
    assert stored(media) == ["a.txt"]


def test_an_inner_block_s_files_go_when_the_outer_block_fails(media):
    with pytest.raises(Boom), files.removed_on_failure():
        a_file("outer.txt")
        with files.removed_on_failure():
            a_file("inner.txt")
        raise Boom
    assert stored(media) == []


def test_a_failed_inner_block_takes_only_its_own_files(media):
    with files.removed_on_failure():
        a_file("kept.txt")
        with pytest.raises(Boom), files.removed_on_failure():
            a_file("gone.txt")
            raise Boom
    assert stored(media) == ["kept.txt"]


def test_outside_any_block_a_file_is_simply_stored(media):
    a_file("plain.txt")
    assert stored(media) == ["plain.txt"]
