"""Pages everyone taking part uses: the monthly leaderboard (phone-friendly cards) and
"My points" (balance, history, redeeming coins). Those who do not take part in
incentives (customers, suppliers) get a 404: for them these pages do not exist.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import Team
from frontline.core.errors import DomainError, ValidationFailed
from frontline.core.pages import BootstrapFormMixin
from frontline.core.rest import parse_id
from frontline.incentives import access, leaderboard, redemptions, wallets
from frontline.incentives.models import IncentiveSettings, LedgerEntry, Redemption
from frontline.sites.models import Project


class ParticipantsOnlyMixin(LoginRequiredMixin):
    """Only those who take part in incentives know these pages exist."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.takes_part(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def recent_months(count: int = 12) -> list[dt.date]:
    month = leaderboard.this_month()
    out = []
    for _i in range(count):
        out.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return out


def _pick(model, user, raw):
    pk = parse_id(raw or "")
    return model.objects.visible_to(user).filter(pk=pk).first() if pk else None


class LeaderboardView(ParticipantsOnlyMixin, generic.View):
    """``?month=YYYY-MM&team=&project=``: the month's ranking by points."""

    def get(self, request):
        try:
            month = leaderboard.parse_month(request.GET.get("month"))
        except ValidationFailed:
            month = leaderboard.this_month()
        user = request.user
        team = _pick(Team, user, request.GET.get("team"))
        project = (
            _pick(Project, user, request.GET.get("project")) if user.is_operator_staff else None
        )
        rows = leaderboard.ranking(viewer=user, month=month, team=team, project=project)
        points, coins = wallets.balance_of(user)
        context = {
            "rows": rows,
            "month": month,
            "months": recent_months(),
            "team": team,
            "project": project,
            "teams": Team.objects.visible_to(user).filter(is_active=True).order_by("name"),
            "projects": Project.objects.visible_to(user).order_by("code")
            if user.is_operator_staff
            else Project.objects.none(),
            "me": user.pk,
            "my_points": points,
            "my_coins": coins,
            "can_manage_rules": access.may_manage_rules(user),
            "can_approve": access.may_approve(user),
        }
        return render(request, "incentives/leaderboard.html", context)


class RedeemForm(BootstrapFormMixin, forms.Form):
    coins = forms.DecimalField(
        label=_("Coins to redeem"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class MyPointsView(ParticipantsOnlyMixin, generic.View):
    """Balance, the ledger history (paginated) and one's redemptions; POST asks to redeem."""

    paginate_by = 25

    def context(self, request, form=None) -> dict:
        user = request.user
        points, coins = wallets.balance_of(user)
        pending = redemptions.pending_coins(user)
        entries = (
            LedgerEntry.objects.filter(user=user)
            .select_related("rule")
            .order_by("-occurred_at", "-id")
        )
        page = Paginator(entries, self.paginate_by).get_page(request.GET.get("page"))
        settings = IncentiveSettings.current()
        return {
            "points": points,
            "coins": coins,
            "pending": pending,
            "available": max(coins - pending, Decimal("0.00")),
            "settings": settings,
            "page_obj": page,
            "paginator": page.paginator,
            "is_paginated": page.has_other_pages(),
            "entries": page.object_list,
            "querystring": "",
            "redemptions": Redemption.objects.filter(user=user).order_by("-requested_at")[:20],
            "form": form or RedeemForm(),
        }

    def get(self, request):
        return render(request, "incentives/my_points.html", self.context(request))

    def post(self, request):
        form = RedeemForm(request.POST)
        if form.is_valid():
            try:
                redemptions.request_redemption(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                for name, msgs in exc.fields.items():
                    for msg in msgs:
                        form.add_error(name if name in form.fields else None, msg)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Your request was sent to a manager."))
                return HttpResponseRedirect(reverse("incentives:my-points"))
        return render(request, "incentives/my_points.html", self.context(request, form), status=400)
