"""Base page views: every list, detail and form page reads through ``visible_to(user)``.

What a user may not see is a 404; what they may see but not change is a 403.
The same view renders the whole page or, for an htmx request, only its partial.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.roles import Cap
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.models import AuditEntry
from frontline.core.rest import parse_id


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


class ScopedQuerysetMixin(LoginRequiredMixin):
    model: type[models.Model]
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self):
        qs = self.model.objects.visible_to(self.request.user)
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_object(self, queryset=None):
        pk = parse_id(self.kwargs.get("pk", ""))
        if pk is None:
            raise Http404
        queryset = self.get_queryset() if queryset is None else queryset
        try:
            return queryset.get(pk=pk)
        except self.model.DoesNotExist:
            raise Http404

    # Subclasses say who may change things.
    write_capability: str = ""

    def can_write(self, obj=None) -> bool:
        return bool(self.write_capability) and self.request.user.has_capability(
            self.write_capability
        )


class ScopedListView(ScopedQuerysetMixin, generic.ListView):
    """A list with search (``q``), an allowlisted sort (``sort``), filters and pagination."""

    filterset_class = None
    search_fields: tuple[str, ...] = ()
    sort_fields: dict[str, str] = {}
    default_sort = "pk"
    paginate_by = 25
    partial_template_name: str | None = None

    def get_queryset(self):
        qs = super().get_queryset()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET or None, queryset=qs, request=self.request
            )
            if self.filterset.is_bound:
                # An invalid filter shows nothing (the form says why), never the unfiltered list.
                qs = self.filterset.qs if self.filterset.is_valid() else qs.none()
        # NUL: PostgreSQL refuses it in any text parameter (a 500), and it means nothing here.
        self.search = self.request.GET.get("q", "").replace("\x00", "").strip()[:100]
        if self.search and self.search_fields:
            cond = models.Q()
            for field in self.search_fields:
                cond |= models.Q(**{f"{field}__icontains": self.search})
            qs = qs.filter(cond)
        sort = self.request.GET.get("sort", "")
        self.sort = sort if sort.lstrip("-") in self.sort_fields else self.default_sort
        return qs.order_by(self.sort, "pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx.update(
            filterset=self.filterset,
            search=self.search,
            sort=self.sort,
            sort_fields=self.sort_fields,
            querystring=query.urlencode(),
            can_create=self.can_write(None),
        )
        return ctx

    def get_template_names(self):
        if is_htmx(self.request) and self.partial_template_name:
            return [self.partial_template_name]
        return super().get_template_names()


class ScopedDetailView(ScopedQuerysetMixin, generic.DetailView):
    audit_limit = 50

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["can_edit"] = self.can_write(self.object)
        if user.has_capability(Cap.VIEW_AUDIT):
            ctx["audit_entries"] = list(
                AuditEntry.objects.visible_to(user).for_object(self.object)[: self.audit_limit]
            )
        return ctx


def style_form(form: forms.BaseForm) -> None:
    """Give widgets Bootstrap classes (kept here so templates stay plain)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class BootstrapFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class ScopedModelForm(forms.ModelForm):
    """Every choice of a related object is limited to what the user can see."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        style_form(self)
        for field in self.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to"):
                field.queryset = qs.visible_to(user)


class ServiceFormView(ScopedQuerysetMixin, generic.FormView):
    """Create or edit through a service; a DomainError becomes a form error, nothing is half-saved.

    Subclasses implement ``perform(form)`` (returning the saved object) and set
    ``form_class``; edit views set ``editing = True``.
    """

    editing = False
    success_message = _("Saved.")
    object = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.editing:
            self.object = self.get_object()
        if not self.can_write(self.object):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        if self.editing:
            kwargs["instance"] = self.object
        return kwargs

    def form_valid(self, form):
        try:
            obj = self.perform(form)
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                target = name if name in form.fields else None
                for msg in msgs:
                    form.add_error(target, msg)
            if not exc.fields:
                form.add_error(None, str(exc.message))
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(obj.get_absolute_url())

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["object"] = self.object
        ctx["editing"] = self.editing
        return ctx

    def perform(self, form):  # pragma: no cover - abstract
        raise NotImplementedError


class ServiceDeleteView(ScopedQuerysetMixin, generic.View):
    """Erase one record through a service: GET asks for confirmation, POST deletes.

    Another organisation's record is a 404 and one the user may see but not change a
    403, before anything else. When the service refuses (something still depends on
    the record) its message is shown on the record's page and nothing changes.
    Subclasses set ``model``, ``write_capability``, ``list_url_name``, ``list_label``
    and implement ``perform(obj)``.
    """

    http_method_names = ["get", "post", "head", "options"]
    template_name = "core/confirm_delete.html"
    list_url_name = ""
    list_label = ""
    success_message = _("Deleted: %(name)s.")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()
        if not self.can_write(self.object):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        context = {
            "object": self.object,
            "list_url": reverse(self.list_url_name),
            "list_label": self.list_label,
        }
        return render(request, self.template_name, context)

    def post(self, request, *args, **kwargs):
        name = str(self.object)
        try:
            self.perform(self.object)
        except DomainPermissionDenied:
            raise DjangoPermissionDenied
        except NotFound:
            raise Http404
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(self.object.get_absolute_url())
        messages.success(request, self.success_message % {"name": name})
        return HttpResponseRedirect(reverse(self.list_url_name))

    def perform(self, obj) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
