"""Attachments: type by content against an allowlist, safe names, always served as a download."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.desk import tickets, uploads
from frontline.desk.models import Attachment, TicketEvent
from frontline.desk.states import EventKind
from frontline.desk.tests import factories as df

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 40
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
GIF = b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00" + b"\x00" * 20
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 30
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 30
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60
GIFAR = b"GIF89a<html><script>alert(1)</script></html>"


def office(kind: str, *, content_types: bytes | None = None) -> bytes:
    main = {
        "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    }[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            content_types
            or b'<?xml version="1.0"?><Types><Override PartName="/x" ContentType="'
            + main
            + b'"/></Types>',
        )
        archive.writestr("word/document.xml", b"<w:document/>")
    return buffer.getvalue()


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(cast):
    return df.ticket_for(cast, first_handled_at=timezone.now())


# ---------------------------------------------------------------- type by content


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PNG, "photo.png", uploads.PNG),
        (JPEG, "IMG_0001.JPG", uploads.JPEG),
        (GIF, "a.gif", uploads.GIF),
        (WEBP, "a.webp", uploads.WEBP),
        (PDF, "report.pdf", uploads.PDF),
        (MP4, "clip.mp4", uploads.MP4),
        ("温度 7℃\n压力 0.5MPa\n".encode(), "log.txt", uploads.TEXT),
        ("\ufeff设备,温度\n1#,7\n".encode(), "data.csv", uploads.CSV),
        (office("docx"), "报告.docx", uploads.DOCX),
        (office("xlsx"), "readings.xlsx", uploads.XLSX),
    ],
)
def test_allowed_types_are_recognised_by_their_content(data, name, expected):
    checked = uploads.check_file(upload(data, name, content_type="text/html"))
    assert checked.content_type == expected
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (SVG, "logo.svg"),
        (SVG, "logo.png"),
        (HTML, "page.html"),
        (HTML, "notes.txt"),
        (EXE, "setup.pdf"),
        (EXE, "photo.jpg"),
        (ELF, "readme.txt"),
        (GIFAR, "cat.gif"),
        (b"PK\x03\x04not really a zip", "report.docx"),
        (
            office(
                "docx",
                content_types=b"<Types>application/vnd.ms-excel.sheet.macroEnabled.main+xml</Types>",
            ),
            "m.xlsx",
        ),
        (b"\xff\xfe\x00\x00garbage", "blob.bin"),
    ],
)
def test_anything_off_the_allowlist_is_refused_whatever_its_name(data, name):
    with pytest.raises(ValidationFailed) as exc:
        uploads.check_file(upload(data, name, content_type="image/png"))
    assert exc.value.code == "file_type"
    assert "files" in exc.value.fields


def test_an_oversized_file_is_refused_with_413(settings):
    settings.DESK_MAX_UPLOAD_BYTES = 100
    with pytest.raises(uploads.UploadTooLarge) as exc:
        uploads.check_file(upload(b"a" * 101, "big.txt"))
    assert exc.value.status == 413


def test_more_than_ten_files_at_once_are_refused():
    with pytest.raises(ValidationFailed) as exc:
        uploads.check_files([upload(b"x", f"{i}.txt") for i in range(11)])
    assert exc.value.code == "too_many_files"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.txt", "cmd.txt"),
        ("%2e%2e%2fsecret.txt", "%2e%2e%2fsecret.txt"),
        ("invoice\u202etxt.exe", "invoicetxt.exe"),
        ("a\x00b\r\nc.txt", "a b c.txt"),
        ("..", "file"),
        ("", "file"),
        ('"; filename=evil.bat', '"; filename=evil.bat'),
    ],
)
def test_display_names_are_normalised(raw, expected):
    assert uploads.normalise_name(raw) == expected


def test_a_long_name_is_cut_to_200_characters_keeping_its_extension():
    name = uploads.normalise_name("长" * 1000 + ".pdf")
    assert len(name) == 200 and name.endswith(".pdf")


def test_the_extension_follows_the_content():
    assert uploads.check_file(upload(PNG, "evil.exe")).name == "evil.exe.png"
    assert uploads.check_file(upload(PDF, "a.pdf%00.html")).name == "a.pdf%00.html.pdf"


# ---------------------------------------------------------------- storing


def test_files_are_stored_under_a_generated_key_with_their_hash(cast, ticket):
    stored = tickets.attach_files(
        actor=cast.customer_a_user, ticket=ticket, files=[upload(PDF, "../../etc/passwd")]
    )
    (attachment,) = stored
    assert attachment.name == "passwd.pdf"
    assert attachment.file.name.startswith(f"desk/{ticket.pk}/")
    assert "passwd" not in attachment.file.name
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.size == len(PDF) and attachment.public
    assert attachment.uploaded_by == cast.customer_a_user
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ATTACHMENT)
    assert event.public and attachment.event == event


def test_a_reply_that_fails_after_its_files_are_stored_leaves_no_file(
    cast, ticket, settings, monkeypatch
):
    # Given telling the watchers fails, after the reply's files are stored
    def fail(**kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(tickets, "_tell_reply", fail)
    # When a reply with two files is sent
    with pytest.raises(RuntimeError):
        tickets.reply(
            actor=cast.agent, ticket=ticket, body="报告",
            files=[upload(PDF, "r.pdf"), upload(PNG, "p.png")],
        )  # fmt: skip
    # Then neither the rows nor the files are there
    assert not Attachment.objects.exists()
    assert not TicketEvent.objects.filter(kind=EventKind.REPLY).exists()
    assert [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] == []


def test_customer_files_are_always_public_staff_choose(cast, ticket):
    (mine,) = tickets.attach_files(
        actor=cast.customer_a_user, ticket=ticket, files=[upload(PNG, "a.png")], public=False
    )
    assert mine.public
    (internal,) = tickets.attach_files(
        actor=cast.agent, ticket=ticket, files=[upload(PNG, "b.png")], public=False
    )
    assert not internal.public
    assert not TicketEvent.objects.get(ticket=ticket, author=cast.agent).public


def test_files_on_a_note_are_internal_and_on_a_reply_public(cast, ticket):
    note = tickets.add_note(
        actor=cast.agent, ticket=ticket, body="日志", files=[upload(PDF, "n.pdf")]
    )
    reply = tickets.reply(
        actor=cast.agent, ticket=ticket, body="报告", files=[upload(PDF, "r.pdf")]
    )
    assert not Attachment.objects.get(event=note).public
    assert Attachment.objects.get(event=reply).public


def test_one_bad_file_refuses_the_whole_request(cast, ticket):
    with pytest.raises(ValidationFailed):
        tickets.attach_files(
            actor=cast.agent, ticket=ticket, files=[upload(PNG, "ok.png"), upload(SVG, "x.svg")]
        )
    assert not Attachment.objects.exists()
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_strangers_cannot_attach(cast, ticket):
    with pytest.raises(PermissionDenied):
        tickets.attach_files(
            actor=cast.customer_b_admin, ticket=ticket, files=[upload(PNG, "a.png")]
        )
    assert not Attachment.objects.exists()


# ---------------------------------------------------------------- through the API


def api_upload(client, ticket, *files, **extra):
    return client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments/",
        {"files": list(files), **extra},
        format="multipart",
    )


def test_an_upload_through_the_api_and_its_download_are_safe(api, cast, ticket):
    client = api.as_user(cast.customer_a_user)
    name = '报告 "; filename=evil.bat.pdf'
    response = api_upload(client, ticket, upload(PDF, name))
    assert response.status_code == 201, response.json()
    (item,) = response.json()
    assert "public" not in item and "sha256" not in item

    download = client.get(item["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "sandbox"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition
    # the quote in the name cannot end the parameter early or add another one
    assert disposition.count('"') == 2 and "evil.bat" not in disposition.split(";")[1].split("=")[0]
    assert "\r" not in disposition and "\n" not in disposition


@pytest.mark.parametrize(("data", "name"), [(SVG, "x.svg"), (HTML, "x.html"), (EXE, "x.png")])
def test_the_api_refuses_dangerous_files(api, cast, ticket, data, name):
    response = api_upload(api.as_user(cast.agent), ticket, upload(data, name, "image/png"))
    assert response.status_code == 400
    assert response.json()["code"] == "file_type"
    assert not Attachment.objects.exists()


def test_the_api_answers_413_for_a_file_over_the_limit(api, cast, ticket, settings):
    settings.DESK_MAX_UPLOAD_BYTES = 1000
    response = api_upload(api.as_user(cast.agent), ticket, upload(b"a" * 1001, "big.txt"))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_the_api_answers_413_early_for_a_huge_body(api, cast, ticket, settings):
    settings.DESK_MAX_UPLOAD_BYTES = 10
    client = api.as_user(cast.agent)
    response = api_upload(client, ticket, upload(b"a" * (2 * 1024 * 1024), "big.txt"))
    assert response.status_code == 413


def test_the_api_refuses_more_than_ten_files(api, cast, ticket):
    files = [upload(b"line\n", f"{i}.txt") for i in range(11)]
    response = api_upload(api.as_user(cast.agent), ticket, *files)
    assert response.status_code == 400
    assert not Attachment.objects.exists()


def test_an_upload_without_files_or_with_json_is_a_400(api, cast, ticket):
    client = api.as_user(cast.agent)
    assert api_upload(client, ticket).status_code == 400
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments/", {"files": []}, format="json"
    )
    assert response.status_code == 415


@pytest.mark.parametrize("who", ["customer_b_admin", "partner_admin", "outsider"])
def test_another_organisations_attachment_is_not_found(api, cast, ticket, who):
    (attachment,) = tickets.attach_files(
        actor=cast.agent, ticket=ticket, files=[upload(PNG, "a.png")]
    )
    client = api.as_user(cast.by_role(who))
    assert client.get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 404
    assert client.get(f"/api/v1/attachments/{attachment.pk}/").status_code == 404
    assert api_upload(client, ticket, upload(PNG, "b.png")).status_code == 404


def test_an_internal_attachment_is_not_found_for_the_customer(api, cast, ticket):
    (internal,) = tickets.attach_files(
        actor=cast.agent, ticket=ticket, files=[upload(PNG, "内部.png")], public=False
    )
    client = api.as_user(cast.customer_a_user)
    assert client.get(f"/api/v1/attachments/{internal.pk}/download/").status_code == 404
    staff = api.as_user(cast.engineer)
    assert staff.get(f"/api/v1/attachments/{internal.pk}/download/").status_code == 200


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "99999999999999999999999", "1.5"])
def test_bad_attachment_ids_are_404(api, cast, pk):
    assert api.as_user(cast.agent).get(f"/api/v1/attachments/{pk}/download/").status_code == 404
