"""DRF plumbing named in settings: the error format, pagination and strict filters.

Kept apart from ``frontline.core.api`` because DRF imports these while it is
still loading its generic views.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from frontline.core import errors
from frontline.core.paging import CappedPaginator

MAX_ID = 2**63 - 1


def parse_id(value) -> int | None:
    """An object id from the outside world, or None when it cannot be one."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


# ---------------------------------------------------------------- errors


def _flatten(detail) -> list[str]:
    if isinstance(detail, Mapping):
        out: list[str] = []
        for key, value in detail.items():
            out.extend(f"{key}: {m}" for m in _flatten(value))
        return out
    if isinstance(detail, list | tuple):
        out = []
        for item in detail:
            out.extend(_flatten(item))
        return out
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, Mapping):
        return {str(k): _flatten(v) for k, v in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def exception_handler(exc, context):
    """Every API error is ``{"code", "detail", "fields"}``."""
    if isinstance(exc, errors.DomainError):
        body = {"code": exc.code, "detail": str(exc.message), "fields": exc.fields}
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        converted = errors.from_django_validation(exc)
        return Response(
            {"code": converted.code, "detail": str(converted.message), "fields": converted.fields},
            status=400,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        non_field = fields.get("non_field_errors")
        body = {
            "code": "invalid",
            "detail": non_field[0] if non_field else str(_("Some fields are not valid.")),
            "fields": fields,
        }
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = {"code": code, "detail": " ".join(_flatten(detail)), "fields": {}}
    response.data = body
    return response


# ---------------------------------------------------------------- pagination & filters


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if (
            len(raw) > 6
            or not (raw.isascii() and raw.isdigit())
            or not 1 <= int(raw) <= self.max_page_size
        ):
            raise exceptions.ValidationError(
                {
                    "page_size": [
                        _("Must be a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)


class CappedCountPagination(Pagination):
    """Page numbers with a count that is exact up to ``settings.LIST_COUNT_CAP`` (10,000).

    Above the cap ``count`` is the cap and ``count_capped`` is true: there are more
    rows than ``count``. ``next`` and ``previous`` work on every page, also past the
    cap (``?page=last`` is then the last counted page). For lists that grow without
    bound (tickets), where an exact ``COUNT(*)`` costs more than the page itself.
    """

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_capped": self.page.paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"] = {
            **properties["count"],
            "description": (
                "How many results there are, counted exactly up to a cap (10,000 by "
                "default); when there are more, the cap itself (see `count_capped`)."
            ),
        }
        properties["count_capped"] = {
            "type": "boolean",
            "example": False,
            "description": (
                "True when there are more results than `count` (the count stopped at "
                'its cap: read it as "10,000+"). `next` still leads to every page.'
            ),
        }
        # The order of the keys as the responses have them.
        response["properties"] = {
            key: properties[key] for key in ("count", "count_capped", "next", "previous", "results")
        }
        response["required"] = ["count", "count_capped", "results"]
        return response


GLOBAL_QUERY_PARAMS = {"page", "page_size", "ordering", "search", "format"}


class StrictQueryParamsBackend:
    """Reject query parameters that are not on the view's allowlist (400, not silently ignored)."""

    def filter_queryset(self, request, queryset, view):
        allowed = set(GLOBAL_QUERY_PARAMS)
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        allowed |= set(getattr(view, "extra_query_params", ()))
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise exceptions.ValidationError(
                {name: [_("Unknown query parameter.")] for name in unknown}
            )
        return queryset

    def get_schema_operation_parameters(self, view):
        return []


class AllowlistOrderingFilter(OrderingFilter):
    """Ordering only by the view's ``ordering_fields``; anything else is a 400."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = set(getattr(view, "ordering_fields", ()) or ())
        terms = [t.strip() for t in raw.split(",") if t.strip()]
        bad = [t for t in terms if t.lstrip("-") not in allowed]
        if bad or not terms:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        _("Order by one of: %(fields)s.") % {"fields": ", ".join(sorted(allowed))}
                    ]
                }
            )
        return [*terms, "-pk" if terms[0].startswith("-") else "pk"]


class SearchBackend(SearchFilter):
    search_param = "search"
