"""Manager pages: point rules (operator staff read them; ``MANAGE_POINT_RULES`` changes
them), the coin rate, and redemptions to approve, reject, mark paid and export for
payroll (``APPROVE_REDEMPTIONS``). Those who may look but not act get a 403 and
nothing changes; those who do not take part get a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.roles import Cap
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import (
    BootstrapFormMixin,
    ScopedListView,
    ScopedModelForm,
    ServiceFormView,
)
from frontline.core.rest import parse_id
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.incentives import access, leaderboard, redemptions, services
from frontline.incentives.models import IncentiveSettings, PointRule, Redemption
from frontline.incentives.states import RedemptionStatus
from frontline.incentives.views import ParticipantsOnlyMixin, recent_months


class StaffOnlyMixin(ParticipantsOnlyMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.may_view_rules(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def _form_errors(form, exc: DomainError) -> None:
    for name, msgs in exc.fields.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)
    if not exc.fields:
        form.add_error(None, str(exc.message))


# ---------------------------------------------------------------- rules


class RuleForm(ScopedModelForm):
    class Meta:
        model = PointRule
        fields = list(services.RULE_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def _post_clean(self):
        """The rule's checks are the service's: a page shows the same messages as the API."""


class RuleListView(StaffOnlyMixin, ScopedListView):
    model = PointRule
    select_related = ("project", "team")
    search_fields = ("name",)
    sort_fields = {"event": _("Event"), "name": _("Name")}
    default_sort = "event"
    paginate_by = 100
    write_capability = Cap.MANAGE_POINT_RULES
    template_name = "incentives/rule_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["settings"] = IncentiveSettings.current()
        ctx["can_set_rate"] = access.may_approve(self.request.user) or ctx["can_create"]
        return ctx


class RuleCreateView(StaffOnlyMixin, ServiceFormView):
    model = PointRule
    form_class = RuleForm
    write_capability = Cap.MANAGE_POINT_RULES
    template_name = "incentives/rule_form.html"

    def form_valid(self, form):
        try:
            self.perform(form)
        except DomainError as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(reverse("incentives:rule-list"))

    def perform(self, form):
        return services.create_rule(actor=self.request.user, **form.cleaned_data)


class RuleEditView(RuleCreateView):
    editing = True

    def perform(self, form):
        return services.update_rule(actor=self.request.user, rule=self.object, **form.cleaned_data)


class SettingsForm(BootstrapFormMixin, forms.Form):
    coin_rate = forms.DecimalField(label=_("Cash per coin"), max_digits=12, decimal_places=4)
    currency = forms.CharField(label=_("Currency"), max_length=3)


class SettingsView(StaffOnlyMixin, generic.View):
    def allowed(self) -> bool:
        user = self.request.user
        return access.may_approve(user) or access.may_manage_rules(user)

    def get(self, request):
        if not self.allowed():
            raise PermissionDenied
        current = IncentiveSettings.current()
        form = SettingsForm(initial={"coin_rate": current.coin_rate, "currency": current.currency})
        return render(request, "incentives/settings.html", {"form": form})

    def post(self, request):
        if not self.allowed():
            raise PermissionDenied
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(reverse("incentives:rule-list"))
        return render(request, "incentives/settings.html", {"form": form}, status=400)


# ---------------------------------------------------------------- redemptions


class ApproversOnlyMixin(ParticipantsOnlyMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and access.takes_part(request.user):
            if not access.may_approve(request.user):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def filtered_redemptions(request):
    """The redemptions list's filters: ``month`` (of the request) and ``status``."""
    qs = Redemption.objects.visible_to(request.user).select_related("user", "decided_by")
    status = request.GET.get("status", "")
    if status in RedemptionStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    month = None
    if request.GET.get("month"):
        try:
            month = leaderboard.parse_month(request.GET["month"])
        except DomainError:
            month = None
    if month:
        start, end = leaderboard.month_bounds(month)
        qs = qs.filter(requested_at__gte=start, requested_at__lt=end)
    return qs, status, month


class RedemptionListView(ApproversOnlyMixin, generic.ListView):
    template_name = "incentives/redemption_list.html"
    paginate_by = 50

    def get_queryset(self):
        qs, self.status, self.month = filtered_redemptions(self.request)
        return qs.order_by("-requested_at", "-id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx.update(
            status=self.status,
            month=self.month,
            months=recent_months(),
            statuses=RedemptionStatus.choices,
            querystring=query.urlencode(),
        )
        return ctx


VERBS = {
    "approve": lambda actor, r, post: redemptions.approve_redemption(actor=actor, redemption=r),
    "reject": lambda actor, r, post: redemptions.reject_redemption(
        actor=actor, redemption=r, reason=post.get("reason", "")
    ),
    "paid": lambda actor, r, post: redemptions.mark_paid(actor=actor, redemption=r),
}


class RedemptionDecideView(ParticipantsOnlyMixin, generic.View):
    """POST approve / reject (with a reason) / paid."""

    http_method_names = ["post"]

    def post(self, request, pk, verb):
        found = Redemption.objects.visible_to(request.user).filter(pk=parse_id(pk) or 0).first()
        if found is None or verb not in VERBS:
            raise Http404
        try:
            VERBS[verb](request.user, found, request.POST)
        except DomainPermissionDenied:
            raise PermissionDenied from None
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Saved."))
        return HttpResponseRedirect(reverse("incentives:redemption-list"))


class RedemptionExportView(ApproversOnlyMixin, generic.View):
    """The filtered approved and paid redemptions as .xlsx for payroll; marks them exported."""

    def get(self, request):
        qs, _status, month = filtered_redemptions(request)
        data = redemptions.payroll_workbook(actor=request.user, redemptions=qs)
        name = f"redemptions-{month:%Y-%m}.xlsx" if month else "redemptions.xlsx"
        response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
