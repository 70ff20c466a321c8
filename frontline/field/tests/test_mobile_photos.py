"""Photos from the engineer's camera: images by their content, stored once per client id."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from frontline.field.models import WorkOrder, WorkOrderEvent, WorkOrderPhoto
from frontline.field.tests.factories_mobile import PNG, job

pytestmark = pytest.mark.django_db

PNG_BYTES = base64.b64decode(PNG.split(",", 1)[1])
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def upload(client, wo, data: bytes, name: str, **extra):
    return client.post(
        reverse("field:mobile-photo", args=[wo.pk]),
        {"file": SimpleUploadedFile(name, data), "caption": "压缩机铭牌", **extra},
    )


def test_the_job_page_offers_the_camera_and_a_client_id(client, cast):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    page = client.get(reverse("field:mobile-job", args=[wo.pk])).content.decode()
    assert 'accept="image/*" capture="environment"' in page
    assert 'name="client_id"' in page and "data-client-id" in page


@pytest.mark.parametrize("data,name", [(PNG_BYTES, "铭牌.png"), (JPEG_BYTES, "IMG_0001.jpg")])
def test_an_image_is_stored_with_its_caption(client, cast, data, name):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    response = upload(client, wo, data, name)
    assert response.status_code == 302 and response["Location"].endswith("#photos")
    photo = WorkOrderPhoto.objects.get(work_order=wo)
    assert photo.caption == "压缩机铭牌" and photo.content_type.startswith("image/")
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="photo").count() == 1


@pytest.mark.parametrize(
    "data,name",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "photo.jpg"),
        (b"<!doctype html><html><script>alert(1)</script></html>", "photo.jpg"),
        (b"<html><body onload=alert(1)>", "photo.png"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "photo.jpg"),
        (b"just some text, not a picture", "photo.jpg"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "photo.jpg"),
        (PNG_BYTES[:8] + b"<script>alert(1)</script>", "polyglot.png"),
    ],
)
def test_anything_but_an_image_is_refused_and_nothing_is_stored(client, cast, data, name):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    response = upload(client, wo, data, name)
    assert response.status_code == 400
    assert 'data-testid="form-error"' in response.content.decode()
    assert not WorkOrderPhoto.objects.filter(work_order=wo).exists()


def test_the_same_client_id_twice_stores_one_photo(client, cast):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    client_id = str(uuid.uuid4())
    assert upload(client, wo, PNG_BYTES, "a.png", client_id=client_id).status_code == 302
    assert upload(client, wo, PNG_BYTES, "a.png", client_id=client_id).status_code == 302
    assert WorkOrderPhoto.objects.filter(work_order=wo).count() == 1


def test_a_malformed_client_id_is_refused(client, cast):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    assert upload(client, wo, PNG_BYTES, "a.png", client_id="not-a-uuid").status_code == 400
    assert not WorkOrderPhoto.objects.exists()


def test_a_photo_before_leaving_is_refused(client, cast):
    wo = job(cast, step="accepted")
    client.force_login(cast.engineer)
    assert upload(client, wo, PNG_BYTES, "a.png").status_code == 409
    assert not WorkOrderPhoto.objects.exists()


def test_no_photo_on_another_engineers_job(client, cast):
    from frontline.field.tests.factories import engineer

    wo = job(cast, step="on_site", eng=engineer())
    client.force_login(cast.engineer)
    assert upload(client, wo, PNG_BYTES, "a.png").status_code == 404
    assert not WorkOrderPhoto.objects.exists()


@pytest.mark.parametrize("step", ["photo", "signature"])
def test_a_photo_or_signature_whose_event_fails_leaves_no_file(
    cast, settings, tmp_path, monkeypatch, step
):
    from frontline.field import execution, services

    settings.MEDIA_ROOT = tmp_path / "media"
    wo = job(cast, step="on_site")

    # Given the timeline event after the stored file fails
    def fail(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(execution, "record", fail)
    # When the engineer adds a photo, or the customer signs
    with pytest.raises(RuntimeError):
        if step == "photo":
            services.add_photo(
                actor=cast.engineer, work_order=wo, file=SimpleUploadedFile("a.png", PNG_BYTES)
            )
        else:
            services.sign(actor=cast.engineer, work_order=wo, signature=PNG, signed_by="王工")
    # Then nothing of it is kept: no row, no file
    wo.refresh_from_db()
    assert not WorkOrderPhoto.objects.exists() and not wo.signature
    assert [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] == []


def test_signing_again_replaces_the_first_drawing(
    cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    from frontline.field import services

    settings.MEDIA_ROOT = tmp_path / "media"
    wo = job(cast, step="on_site")
    services.sign(actor=cast.engineer, work_order=wo, signature=PNG, signed_by="王工")
    first = WorkOrder.objects.get(pk=wo.pk).signature.name
    with django_capture_on_commit_callbacks(execute=True):
        services.sign(actor=cast.engineer, work_order=wo, signature=PNG, signed_by="李工")
    wo.refresh_from_db()
    files = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert wo.signature.name != first and wo.signed_by == "李工"
    assert [str(p.relative_to(settings.MEDIA_ROOT)) for p in files] == [wo.signature.name]
