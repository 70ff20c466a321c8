"""The API's base classes: strict serializers, scoped related fields, the scoped viewset.

Every endpoint goes through :class:`ScopedModelViewSet`, which reads with
``Model.objects.visible_to(user)`` (so another organisation's object is a 404)
and writes only through services.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import SAFE_METHODS

from frontline.core.rest import parse_id

# ---------------------------------------------------------------- serializers


class StrictModelSerializer(serializers.ModelSerializer):
    """Unknown and read-only fields in a write are errors, not silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            problems = {}
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    problems[key] = [_("Unknown field.")]
                elif field.read_only:
                    problems[key] = [_("This field is read-only.")]
            if problems:
                raise exceptions.ValidationError(problems)
        return super().to_internal_value(data)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in a payload must point at an object the caller can see."""

    default_error_messages = {
        "does_not_exist": _("No such object: %(pk_value)s."),
        "incorrect_type": _("Give the object's id as a number."),
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return queryset.visible_to(user)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        pk = parse_id(data)
        if pk is None:
            if isinstance(data, int | str):
                self.fail("does_not_exist", pk_value=str(data)[:30])
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(pk)


class ErrorSerializer(serializers.Serializer):
    """The shape of every API error (``frontline.core.rest.exception_handler``); for the schema."""

    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


# A service-backed DELETE: 204 when erased, 409 when something still depends on the record.
DESTROY_RESPONSES = {204: None, 409: ErrorSerializer}


# ---------------------------------------------------------------- viewset


class ScopedModelViewSet(viewsets.ModelViewSet):
    """Read through ``visible_to(user)``; write through services after a capability check.

    Subclasses set ``queryset`` (with its select/prefetch), ``write_capability``,
    ``filterset_class``, ``ordering_fields``, ``search_fields`` and implement
    ``perform_create`` / ``perform_update`` / ``perform_destroy`` with services.
    """

    write_capability: str = ""
    lookup_value_regex = r"[^/]+"
    # No DELETE unless a subclass implements ``perform_destroy`` with a service and adds
    # "delete" here: most records are retired, and only what nothing depends on is erased.
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering = ["pk"]

    def get_queryset(self):
        return self.queryset.visible_to(self.request.user)

    def get_object(self):
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if parse_id(lookup) is None:
            raise exceptions.NotFound()
        return super().get_object()

    def can_write(self, obj=None) -> bool:
        user = self.request.user
        return bool(self.write_capability) and user.has_capability(self.write_capability)

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method not in SAFE_METHODS and not self.detail and not self.can_write(None):
            raise exceptions.PermissionDenied()

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS and not self.can_write(obj):
            raise exceptions.PermissionDenied()
