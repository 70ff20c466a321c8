"""Resumable photo uploads after a sync: open, chunks, a dropped connection, the checks at
the end, and every way a phone (or someone else) can get it wrong."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid

import pytest
from django.utils import timezone

from frontline.field import services
from frontline.field.models import WorkOrderPhoto
from frontline.inspections.models import Reading
from frontline.inspections.states import AnomalyAction, ItemKind
from frontline.inspections.tests import factories as fi
from frontline.sync import uploads
from frontline.sync.apply import apply_batch
from frontline.sync.models import SyncUpload
from frontline.sync.tests.conftest import act, order_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/sync/uploads/"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
ITEMS = (
    {"name": "出水温度", "kind": ItemKind.NUMBER, "unit": "°C", "lo": "5", "hi": "12",
     "photo_required": True},
    {"name": "现场照片", "kind": ItemKind.PHOTO},
)  # fmt: skip


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def body_for(target, data=PNG, purpose="work_order_photo", **kw):
    return {"client_id": str(kw.pop("client_id", uuid.uuid4())), "purpose": purpose,
            "target": target, "filename": "../../IMG_0412.png", "content_type": "image/png",
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "device_at": (timezone.now() - dt.timedelta(minutes=20)).isoformat(), **kw}  # fmt: skip


def patch(client, client_id, offset, chunk):
    return client.patch(f"{URL}{client_id}/", chunk, content_type="application/offset+octet-stream",
                        HTTP_UPLOAD_OFFSET=str(offset))  # fmt: skip


def on_site(cast, eng):
    wo = order_for(cast, eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo)
    return wo


def test_three_chunks_a_dropped_connection_and_a_resume(
    api, cast, eng, tmp_path, django_capture_on_commit_callbacks
):
    # Given an order on the way and a photo taken offline
    wo = on_site(cast, eng)
    client = api.as_user(eng)
    body = body_for({"work_order": wo.pk})
    cid = body["client_id"]
    opened = client.post(URL, body, format="json")
    assert opened.status_code == 201, opened.content
    assert opened.json() | {"result": None} == {"client_id": cid, "offset": 0, "size": len(PNG),
                                                "status": "open", "result": None, "code": None,
                                                "detail": None}  # fmt: skip
    # When two chunks go through and the connection drops
    parts = [PNG[:20], PNG[20:45], PNG[45:]]
    assert patch(client, cid, 0, parts[0]).json()["offset"] == 20
    assert patch(client, cid, 20, parts[1]).json()["offset"] == 45
    # Then the phone asks where to resume (and opening again says the same)
    assert client.get(f"{URL}{cid}/").json()["offset"] == 45
    again = client.post(URL, body, format="json")
    assert again.status_code == 200 and again.json()["offset"] == 45
    # And the last chunk finishes it: the photo is the order's, taken at the phone's time
    with django_capture_on_commit_callbacks(execute=True):
        done = patch(client, cid, 45, parts[2]).json()
    assert done["status"] == "done" and done["offset"] == len(PNG)
    photo = WorkOrderPhoto.objects.get()
    assert done["result"] == {"photo": photo.pk, "work_order": wo.pk}
    assert photo.client_id == uuid.UUID(cid) and photo.uploaded_by == eng
    assert photo.taken_at == dt.datetime.fromisoformat(body["device_at"])
    assert photo.name == "IMG_0412.png" and photo.file.read() == PNG
    # And the waiting bytes are gone; the name never touched the disk
    assert not list((tmp_path / uploads.FOLDER).iterdir())
    # And the last chunk sent again (its answer was lost) does nothing twice
    replay = patch(client, cid, 45, parts[2])
    assert replay.status_code == 200 and replay.json()["status"] == "done"
    assert WorkOrderPhoto.objects.count() == 1


def test_a_wrong_offset_is_409_with_the_current_one_and_bytes_past_the_size_400(api, cast, eng):
    wo = on_site(cast, eng)
    client = api.as_user(eng)
    body = body_for({"work_order": wo.pk})
    client.post(URL, body, format="json")
    patch(client, body["client_id"], 0, PNG[:10])
    response = patch(client, body["client_id"], 5, PNG[5:20])
    assert response.status_code == 409
    assert response.json()["code"] == "offset_mismatch" and response.json()["offset"] == 10
    response = patch(client, body["client_id"], 10, PNG[10:] + b"extra")
    assert response.status_code == 400 and response.json()["code"] == "beyond_size"
    assert SyncUpload.objects.get().offset == 10


def test_a_damaged_file_fails_with_checksum_mismatch(api, cast, eng):
    wo = on_site(cast, eng)
    client = api.as_user(eng)
    body = body_for({"work_order": wo.pk}, sha256="0" * 64)
    client.post(URL, body, format="json")
    state = patch(client, body["client_id"], 0, PNG).json()
    assert state["status"] == "failed" and state["code"] == "checksum_mismatch"
    assert state["detail"] and not WorkOrderPhoto.objects.exists()


def test_a_file_that_is_not_an_image_fails_by_its_content(api, cast, eng):
    wo = on_site(cast, eng)
    client = api.as_user(eng)
    html = b"<html><script>alert(1)</script></html>"
    body = body_for({"work_order": wo.pk}, data=html)
    client.post(URL, body, format="json")
    state = patch(client, body["client_id"], 0, html).json()
    assert state["status"] == "failed" and state["code"] == "file_type"
    assert not WorkOrderPhoto.objects.exists()


def test_an_oversized_photo_is_413_before_anything_is_stored(api, cast, eng, settings):
    settings.DESK_MAX_UPLOAD_BYTES = 1000
    wo = on_site(cast, eng)
    response = api.as_user(eng).post(URL, body_for({"work_order": wo.pk}, size=1001), format="json")
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not SyncUpload.objects.exists()


def test_client_ids_reused_or_someone_elses(api, cast, eng, colleague):
    wo = on_site(cast, eng)
    body = body_for({"work_order": wo.pk})
    api.as_user(eng).post(URL, body, format="json")
    # The same id with another body is refused
    changed = {**body, "size": len(PNG) + 1}
    response = api.as_user(eng).post(URL, changed, format="json")
    assert response.status_code == 409 and response.json()["code"] == "client_id_reused"
    # Another engineer learns nothing from it and can neither read nor write it
    theirs = api.as_user(colleague)
    response = theirs.post(URL, {**body, "target": {"work_order": order_for(cast, colleague).pk}},
                           format="json")  # fmt: skip
    assert response.status_code == 409 and response.json()["code"] == "client_id_taken"
    assert str(wo.pk) not in response.content.decode()
    assert theirs.get(f"{URL}{body['client_id']}/").status_code == 404
    assert patch(theirs, body["client_id"], 0, PNG).status_code == 404
    assert SyncUpload.objects.get().offset == 0


def test_work_taken_back_says_why(api, cast, eng, colleague):
    # Given an order reassigned to a colleague while the phone was offline
    wo = on_site(cast, eng)
    body = body_for({"work_order": wo.pk})
    client = api.as_user(eng)
    client.post(URL, body, format="json")
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=colleague)
    # Then the upload ends with the reason the phone shows
    state = patch(client, body["client_id"], 0, PNG).json()
    assert state["status"] == "failed" and state["code"] == "taken_back"
    assert wo.number in state["detail"]
    # And a new upload for it is refused at once, with the same reason
    response = client.post(URL, body_for({"work_order": wo.pk}), format="json")
    assert response.status_code == 409 and response.json()["code"] == "taken_back"
    assert not WorkOrderPhoto.objects.exists()


@pytest.mark.parametrize("who", ["dispatcher", "customer_a_user", "outsider"])
def test_only_engineers_upload(api, cast, eng, who):
    wo = on_site(cast, eng)
    response = api.as_user(cast.by_role(who)).post(URL, body_for({"work_order": wo.pk}),
                                                   format="json")  # fmt: skip
    assert response.status_code == 403 and not SyncUpload.objects.exists()


def test_a_reading_photo_fills_the_pending_reading_once(api, cast, eng):
    # Given a visit synced with its photos to follow
    route = fi.route(customer=cast.customer_a, points=1, items=ITEMS,
                     anomaly_action=AnomalyAction.NONE)  # fmt: skip
    rnd = fi.round_for(route, eng)
    cp = route.checkpoints.get()
    temp, picture = cp.items.order_by("position")
    visit = {"checkpoint": cp.pk, "readings": [{"item": temp.pk, "value": 7}],
             "photos_to_follow": [temp.pk, picture.pk]}  # fmt: skip
    batch = apply_batch(actor=eng, device_id="p", actions=[act("record_visit", rnd, visit)])
    assert batch.results[0].status == "applied", batch.results[0].result
    assert Reading.objects.filter(photo_pending=True).count() == 2
    # When the temperature's photo uploads
    client = api.as_user(eng)
    target = {"round": rnd.pk, "checkpoint": cp.pk, "item": temp.pk}
    body = body_for(target, purpose="reading_photo")
    assert client.post(URL, body, format="json").status_code == 201
    state = patch(client, body["client_id"], 0, PNG).json()
    # Then that reading has it, and no longer waits
    reading = Reading.objects.get(item=temp)
    assert state["status"] == "done" and state["result"] == {"reading": reading.pk, "round": rnd.pk}
    assert not reading.photo_pending and reading.photo.read() == PNG
    assert Reading.objects.get(item=picture).photo_pending
    # And a second upload for the same reading is refused
    response = client.post(URL, body_for(target, purpose="reading_photo"), format="json")
    assert response.status_code == 409 and response.json()["code"] == "photo_already_there"


def test_a_photo_item_not_named_to_follow_is_still_required(cast, eng):
    route = fi.route(customer=cast.customer_a, points=1, items=ITEMS)
    rnd = fi.round_for(route, eng)
    cp = route.checkpoints.get()
    temp, picture = cp.items.order_by("position")
    visit = {"checkpoint": cp.pk, "readings": [{"item": temp.pk, "value": 7}],
             "photos_to_follow": [picture.pk]}  # fmt: skip
    batch = apply_batch(actor=eng, device_id="p", actions=[act("record_visit", rnd, visit)])
    assert batch.results[0].status == "rejected"
    assert f"readings.{temp.pk}" in batch.results[0].result["fields"]
    assert not Reading.objects.exists()


def test_uploads_left_open_a_week_are_removed(api, cast, eng, tmp_path):
    wo = on_site(cast, eng)
    body = body_for({"work_order": wo.pk})
    client = api.as_user(eng)
    client.post(URL, body, format="json")
    patch(client, body["client_id"], 0, PNG[:10])
    assert uploads.remove_stale() == 0
    assert uploads.remove_stale(now=timezone.now() + dt.timedelta(days=8)) == 1
    state = client.get(f"{URL}{body['client_id']}/").json()
    assert state["status"] == "failed" and state["code"] == "expired"
    assert not list((tmp_path / uploads.FOLDER).iterdir())


def test_a_photo_that_follows_a_finished_round_counts_in_its_score(api, cast, eng):
    # Given a round walked offline and finished, its photos still to follow
    route = fi.route(customer=cast.customer_a, points=1, items=ITEMS[:1],
                     anomaly_action=AnomalyAction.NONE)  # fmt: skip
    rnd = fi.round_for(route, eng)
    cp = route.checkpoints.get()
    temp = cp.items.get()
    visit = {"checkpoint": cp.pk, "readings": [{"item": temp.pk, "value": 7}],
             "photos_to_follow": [temp.pk]}  # fmt: skip
    apply_batch(actor=eng, device_id="p", actions=[
        act("start_round", rnd, ago=dt.timedelta(minutes=9)),
        act("record_visit", rnd, visit, ago=dt.timedelta(minutes=8)),
        act("finish_round", rnd, ago=dt.timedelta(minutes=7)),
    ])  # fmt: skip
    rnd.refresh_from_db()
    assert rnd.quality_parts["photos"]["score"] == 0
    # When the photo arrives
    client = api.as_user(eng)
    body = body_for({"round": rnd.pk, "checkpoint": cp.pk, "item": temp.pk},
                    purpose="reading_photo")  # fmt: skip
    client.post(URL, body, format="json")
    assert patch(client, body["client_id"], 0, PNG).json()["status"] == "done"
    # Then the round's photo part counts it
    rnd.refresh_from_db()
    assert rnd.quality_parts["photos"]["score"] == 1
    assert rnd.quality_score == rnd.quality_computed


def test_the_beat_ends_stale_uploads_daily(settings):
    from frontline.sync import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["sync-remove-stale-uploads"]
    assert entry == {"task": tasks.remove_stale_uploads.name, "schedule": 24 * 60 * 60}
