"""People pages: teams, one's own API tokens and profile.

Reads go through ``visible_to(user)`` (the core page bases), writes through services;
who may change what is answered by ``frontline.accounts.access``, as in the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django.views.decorators.http import require_POST

from frontline.accounts import access, services, tokens
from frontline.accounts.filters import TeamFilter
from frontline.accounts.forms import ProfileForm, TeamForm, TokenCreateForm
from frontline.accounts.models import ApiToken, EngineerSkill, Team, User
from frontline.accounts.roles import Cap
from frontline.core.errors import DomainError
from frontline.core.pages import (
    ScopedDetailView,
    ScopedListView,
    ScopedQuerysetMixin,
    ServiceDeleteView,
    ServiceFormView,
    style_form,
)
from frontline.core.rest import parse_id


def _show_domain_error(form, exc: DomainError) -> None:
    for name, msgs in exc.fields.items():
        target = name if name in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)
    if not exc.fields:
        form.add_error(None, str(exc.message))


# ---------------------------------------------------------------- teams


class TeamAccessMixin(ScopedQuerysetMixin):
    model = Team
    write_capability = Cap.MANAGE_TEAMS

    def can_write(self, obj=None) -> bool:
        if obj is None:
            return super().can_write(None)
        return access.may_manage_teams_of(self.request.user, obj.organization_id)


class TeamListQuerysetMixin(TeamAccessMixin):
    def get_queryset(self):
        return super().get_queryset().annotate(member_count=Count("members", distinct=True))


class TeamListView(ScopedListView, TeamListQuerysetMixin):
    """Teams the user may see, with search, filters, an allowlisted sort and pages."""

    filterset_class = TeamFilter
    search_fields = ("name", "description")
    sort_fields = {
        "name": _("Name"),
        "dispatch_mode": _("Dispatch mode"),
        "member_count": _("Members"),
        "created_at": _("Created"),
    }
    default_sort = "name"
    select_related = ("organization", "lead")
    template_name = "accounts/team_list.html"
    partial_template_name = "accounts/partials/team_table.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.filterset is not None:
            style_form(self.filterset.form)
        return ctx


class TeamDetailView(TeamAccessMixin, ScopedDetailView):
    """A team: its lead, members with their skills, and its history."""

    select_related = ("organization", "lead")
    template_name = "accounts/team_detail.html"

    def get_queryset(self):
        skills = EngineerSkill.objects.select_related("skill").order_by("skill__name")
        members = User.objects.order_by("display_name", "pk").prefetch_related(
            Prefetch("skills", queryset=skills)
        )
        return super().get_queryset().prefetch_related(Prefetch("members", queryset=members))


class TeamCreateView(TeamAccessMixin, ServiceFormView):
    form_class = TeamForm
    template_name = "accounts/team_form.html"
    success_message = _("Team created.")

    def perform(self, form):
        return services.create_team(actor=self.request.user, **form.cleaned_data)


class TeamEditView(TeamAccessMixin, ServiceFormView):
    form_class = TeamForm
    template_name = "accounts/team_form.html"
    editing = True
    success_message = _("Team saved.")

    def perform(self, form):
        return services.update_team(actor=self.request.user, team=self.object, **form.cleaned_data)


class TeamDeleteView(TeamAccessMixin, ServiceDeleteView):
    list_url_name = "accounts:team-list"
    list_label = _("Teams")
    success_message = _("Team deleted: %(name)s.")

    def perform(self, obj):
        services.delete_team(actor=self.request.user, team=obj)


# ---------------------------------------------------------------- API tokens


class TokenListView(LoginRequiredMixin, generic.View):
    """One's own API tokens and a form for a new one; a new token is shown once, here."""

    template_name = "accounts/token_list.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_capability(Cap.USE_API_TOKENS):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form, *, new_token=None, raw=None, status=200):
        tokens_list = ApiToken.objects.visible_to(self.request.user).order_by("-created_at", "-pk")
        response = render(
            self.request,
            self.template_name,
            {"form": form, "tokens": tokens_list, "new_token": new_token, "raw_token": raw},
            status=status,
        )
        # The page may carry a secret: never keep it in a cache or the back/forward history.
        response["Cache-Control"] = "no-store"
        return response

    def get(self, request, *args, **kwargs):
        return self.render_page(TokenCreateForm())

    def post(self, request, *args, **kwargs):
        form = TokenCreateForm(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=400)
        data = form.cleaned_data
        try:
            token, raw = tokens.create_token(
                actor=request.user,
                user=request.user,
                name=data["name"],
                scopes=data["scopes"],
                expires_at=timezone.now() + dt.timedelta(days=data["expires_in_days"]),
            )
        except DomainError as exc:
            _show_domain_error(form, exc)
            return self.render_page(form, status=400)
        return self.render_page(TokenCreateForm(), new_token=token, raw=raw, status=201)


@require_POST
@login_required
def token_revoke(request, pk):
    pk_value = parse_id(pk)
    token = (
        ApiToken.objects.visible_to(request.user).filter(pk=pk_value).first() if pk_value else None
    )
    if token is None:
        raise Http404
    tokens.revoke_token(actor=request.user, token=token)
    messages.success(request, _("Token revoked: it stops working at once."))
    return redirect("accounts:token-list")


# ---------------------------------------------------------------- profile


class ProfileView(LoginRequiredMixin, generic.FormView):
    """One's own name, phone, language and time zone."""

    form_class = ProfileForm
    template_name = "accounts/profile.html"

    def get_initial(self):
        user = self.request.user
        return {
            "display_name": user.display_name,
            "phone": user.phone,
            "preferred_language": user.preferred_language,
            "time_zone": user.time_zone,
        }

    def form_valid(self, form):
        try:
            services.update_preferences(
                actor=self.request.user, user=self.request.user, **form.cleaned_data
            )
        except DomainError as exc:
            _show_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Your profile is saved."))
        return redirect(reverse("accounts:profile"))


# ---------------------------------------------------------------- password reset


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view with a cap on emails per address and per client address.

    Over the cap the page answers exactly as usual (no enumeration) but sends nothing.
    The counters live in the cache (Redis in production), one window per hour.
    """

    per_email_limit = 3
    per_ip_limit = 20
    window_seconds = 60 * 60

    def _over_limit(self, key: str, limit: int) -> bool:
        cache.add(key, 0, self.window_seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, self.window_seconds)
            count = 1
        return count > limit

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]
        ip = self.request.META.get("REMOTE_ADDR", "")
        over = self._over_limit(f"pwreset:email:{digest}", self.per_email_limit)
        over = self._over_limit(f"pwreset:ip:{ip}", self.per_ip_limit) or over
        if over:
            return redirect(self.get_success_url())
        return super().form_valid(form)
