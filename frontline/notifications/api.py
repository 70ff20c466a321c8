"""API for one's own inbox: list (``?unread=true``), mark one read or unread, mark all read."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from frontline.core.filters import BooleanFilter
from frontline.core.rest import parse_id
from frontline.notifications import services
from frontline.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationFilter(django_filters.FilterSet):
    unread = BooleanFilter(method="filter_unread", label="Only unread (true/false)")

    class Meta:
        model = Notification
        fields: list = []

    def filter_unread(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)


@extend_schema_view(
    list=extend_schema(summary="List your notifications, newest first"),
    retrieve=extend_schema(summary="One of your notifications"),
)
class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Your inbox. Someone else's notification is a 404."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    def get_object(self):
        if parse_id(self.kwargs.get("pk", "")) is None:
            raise exceptions.NotFound()
        return super().get_object()

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark it read")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        note = services.mark_read(user=request.user, notification_id=pk)
        return Response(NotificationSerializer(note).data)

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark it unread")
    @action(detail=True, methods=["post"])
    def unread(self, request, pk=None):
        note = services.mark_unread(user=request.user, notification_id=pk)
        return Response(NotificationSerializer(note).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("MarkAllRead", {"updated": serializers.IntegerField()}),
        summary="Mark all your notifications read",
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"updated": services.mark_all_read(user=request.user)})
