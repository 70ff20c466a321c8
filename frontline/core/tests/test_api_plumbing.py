"""The API's shared plumbing: error format, strict inputs, pagination, audit trail."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from rest_framework import exceptions, serializers
from rest_framework.test import APIRequestFactory

from frontline.core import audit
from frontline.core.api import StrictModelSerializer
from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.core.rest import AllowlistOrderingFilter, Pagination, exception_handler, parse_id
from frontline.sites.models import AssetModel
from frontline.testing import factories as f


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(2**63 - 1), 2**63 - 1),
        ("0", None),
        ("-1", None),
        ("abc", None),
        ("9" * 30, None),
        (str(2**63), None),
        ("１２", None),
        ("", None),
        ("1.5", None),
    ],
)
def test_parse_id_accepts_only_database_sized_positive_integers(raw, expected):
    assert parse_id(raw) == expected


def test_domain_errors_become_code_detail_fields():
    response = exception_handler(ValidationFailed("Nope", fields={"name": "Required."}), {})
    assert response.status_code == 400
    assert response.data == {"code": "invalid", "detail": "Nope", "fields": {"name": ["Required."]}}

    response = exception_handler(Conflict(), {})
    assert response.status_code == 409
    assert response.data["code"] == "conflict"


def test_drf_validation_errors_list_every_field():
    response = exception_handler(
        exceptions.ValidationError({"a": ["bad"], "b": {"c": ["worse"]}}), {}
    )
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["fields"] == {"a": ["bad"], "b": ["c: worse"]}


def test_unexpected_exceptions_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None


class _ModelSerializer(StrictModelSerializer):
    class Meta:
        model = AssetModel
        fields = ["id", "manufacturer", "model", "category"]
        read_only_fields = ["id"]


@pytest.mark.django_db
def test_strict_serializer_rejects_unknown_and_read_only_fields():
    s = _ModelSerializer(
        data={"manufacturer": "Trane", "model": "CVHE", "category": "chiller", "id": 5, "owner": 1}
    )
    assert not s.is_valid()
    assert set(s.errors) == {"id", "owner"}

    ok = _ModelSerializer(data={"manufacturer": "Trane", "model": "CVHE", "category": "chiller"})
    assert ok.is_valid(), ok.errors


@pytest.mark.parametrize("size", ["0", "-5", "abc", "201", "1" * 40, "１０"])
def test_page_size_outside_the_allowed_range_is_a_400(size):
    request = APIRequestFactory().get("/", {"page_size": size})
    from rest_framework.request import Request

    with pytest.raises(serializers.ValidationError):
        Pagination().get_page_size(Request(request))


def test_ordering_off_the_allowlist_is_a_400():
    from rest_framework.request import Request

    class View:
        ordering_fields = ["name"]
        ordering = ["name"]

    flt = AllowlistOrderingFilter()
    good = Request(APIRequestFactory().get("/", {"ordering": "-name"}))
    assert flt.get_ordering(good, None, View()) == ["-name", "-pk"]
    for bad in ["password", "name;DROP TABLE", "customer__users__password", ","]:
        with pytest.raises(exceptions.ValidationError):
            flt.get_ordering(Request(APIRequestFactory().get("/", {"ordering": bad})), None, View())


@pytest.mark.django_db
def test_audit_entries_record_old_and_new_and_are_append_only(cast):
    model = f.AssetModelFactory(manufacturer="York", model="YK-1")
    diff = audit.apply_changes(model, {"model": "YK-2", "manufacturer": "York"})
    assert diff == {"model": ["YK-1", "YK-2"]}
    model.save()
    entry = audit.record(
        actor=cast.manager, instance=model, action=audit.AuditAction.UPDATE, changes=diff
    )

    stored = AuditEntry.objects.for_object(model).get()
    assert stored.actor == cast.manager
    assert stored.changes == {"model": ["YK-1", "YK-2"]}
    assert stored.content_type == ContentType.objects.get_for_model(AssetModel)
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db
def test_jobs_without_a_user_are_audited_as_system():
    model = f.AssetModelFactory()
    entry = audit.record(actor=None, instance=model, action=audit.AuditAction.CREATE)
    assert entry.actor is None and entry.actor_label == "system"
