"""Pages for calls for fire: the company-wide feed, joining a room, and the fire levels.

The feed is for everyone on the operator side, leadership included; customers and
partners get a 404. One view renders the whole page or, for htmx (which polls it
every 10 seconds) and the partial URL, only the list.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import Team, User
from frontline.accounts.roles import Cap, OrganizationKind, Role
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import ScopedQuerysetMixin, is_htmx, style_form
from frontline.core.rest import parse_id
from frontline.desk import fire
from frontline.desk.access import is_desk_staff
from frontline.desk.models import FireCall, SeverityLevel

FEED_LIMIT = 200


class StaffOnlyMixin(LoginRequiredMixin):
    """Operator staff only; anyone else signed in gets a 404 (the page does not exist for them)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_desk_staff(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


# ---------------------------------------------------------------- the feed


def feed_context(request) -> dict:
    user = request.user
    since = timezone.now() - dt.timedelta(days=fire.RECENT_DAYS)
    open_calls = list(
        fire.feed_queryset(user)
        .filter(closed_at__isnull=True)
        .order_by("-created_at", "-pk")[:FEED_LIMIT]
    )
    closed_calls = list(
        fire.feed_queryset(user)
        .filter(closed_at__gte=since)
        .order_by("-closed_at", "-pk")[:FEED_LIMIT]
    )
    names = fire.level_names()
    for call in open_calls + closed_calls:
        people = list(call.summons.all())
        call.level_name = names.get(call.level, call.level)
        call.summoned_people = [s for s in people if s.summoned]
        call.joined_people = [s for s in people if s.joined_at]
        call.joined_by_me = any(s.user_id == user.pk and s.joined_at for s in people)
    return {
        "open_calls": open_calls,
        "closed_calls": closed_calls,
        "recent_days": fire.RECENT_DAYS,
        "feed_limit": FEED_LIMIT,
        "now": timezone.now(),
    }


class FireFeedView(StaffOnlyMixin, generic.View):
    """Open fire calls, live, and those closed in the last week."""

    template_name = "desk/fire/feed.html"
    partial_template_name = "desk/fire/partials/feed_list.html"
    partial = False
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        ctx = feed_context(request)
        restore = request.headers.get("HX-History-Restore-Request") == "true"
        if self.partial or (is_htmx(request) and not restore):
            return render(request, self.partial_template_name, ctx)
        ctx["can_configure"] = request.user.has_capability(Cap.MANAGE_DESK_CONFIG)
        return render(request, self.template_name, ctx)


class JoinFireView(StaffOnlyMixin, generic.View):
    """POST: join a fire call's room (idempotent). htmx gets the refreshed list back."""

    http_method_names = ["post"]

    def post(self, request, pk):
        call_pk = parse_id(pk)
        call = FireCall.objects.visible_to(request.user).filter(pk=call_pk).first()
        if call is None:
            raise Http404
        try:
            fire.join_fire(actor=request.user, fire_call=call)
        except NotFound:
            raise Http404
        except DomainPermissionDenied:
            raise DjangoPermissionDenied
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            if not is_htmx(request):
                messages.success(
                    request,
                    _("You joined the room of %(number)s.") % {"number": call.ticket.number},
                )
        if is_htmx(request):
            return render(request, FireFeedView.partial_template_name, feed_context(request))
        return HttpResponseRedirect(reverse("desk:fire-feed"))


# ---------------------------------------------------------------- fire levels


class SeverityLevelForm(forms.ModelForm):
    summon_roles = forms.MultipleChoiceField(
        label=_("Summoned roles"),
        required=False,
        choices=[(r.value, r.label) for r in Role if r.value in fire.OPERATOR_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Everyone active in these operator roles is summoned."),
    )
    summon_teams = forms.ModelMultipleChoiceField(
        label=_("Summoned teams"),
        required=False,
        queryset=Team.objects.none(),
        help_text=_("Every member of these teams is summoned."),
    )
    summon_users = forms.ModelMultipleChoiceField(
        label=_("Summoned people"), required=False, queryset=User.objects.none()
    )

    class Meta:
        model = SeverityLevel
        fields = [
            "name",
            "description",
            "summon_roles",
            "summon_teams",
            "summon_users",
            "customer_may_choose",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["summon_teams"].queryset = Team.objects.visible_to(user).filter(
            organization__kind=OrganizationKind.OPERATOR, is_active=True
        )
        self.fields["summon_users"].queryset = User.objects.visible_to(user).filter(
            is_active=True, membership__organization__kind=OrganizationKind.OPERATOR
        )
        style_form(self)
        self.fields["summon_roles"].widget.attrs.pop("class", None)


class SeverityLevelListView(StaffOnlyMixin, generic.TemplateView):
    """The four fire levels and who each summons; desk admins get edit links."""

    template_name = "desk/fire/severity_levels.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        fire.ensure_default_levels()
        ctx["levels"] = list(
            SeverityLevel.objects.visible_to(self.request.user).prefetch_related(
                "summon_teams", "summon_users"
            )
        )
        role_labels = dict(Role.choices)
        for level in ctx["levels"]:
            level.role_labels = [role_labels.get(r, r) for r in level.summon_roles or []]
        ctx["can_edit"] = self.request.user.has_capability(Cap.MANAGE_DESK_CONFIG)
        return ctx


class SeverityLevelEditView(StaffOnlyMixin, ScopedQuerysetMixin, generic.FormView):
    """Edit one level through ``fire.update_severity_level`` (desk admins; others 403)."""

    model = SeverityLevel
    form_class = SeverityLevelForm
    template_name = "desk/fire/severity_level_form.html"
    write_capability = Cap.MANAGE_DESK_CONFIG

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and is_desk_staff(request.user):
            self.object = self.get_object()
            if not self.can_write(self.object):
                raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, instance=self.object)
        return kwargs

    def form_valid(self, form):
        try:
            fire.update_severity_level(
                actor=self.request.user, level=self.object, **form.cleaned_data
            )
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
            if not exc.fields:
                form.add_error(None, str(exc.message))
            return self.form_invalid(form)
        messages.success(self.request, _("Fire level saved."))
        return HttpResponseRedirect(reverse("desk:severity-level-list"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["object"] = self.object
        return ctx


urlpatterns = [
    path("desk/fire/", FireFeedView.as_view(), name="fire-feed"),
    path("desk/fire/partial/", FireFeedView.as_view(partial=True), name="fire-feed-partial"),
    path("desk/fire/<str:pk>/join/", JoinFireView.as_view(), name="fire-join"),
    path("desk/severity-levels/", SeverityLevelListView.as_view(), name="severity-level-list"),
    path(
        "desk/severity-levels/<str:pk>/edit/",
        SeverityLevelEditView.as_view(),
        name="severity-level-edit",
    ),
]
