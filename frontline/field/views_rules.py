"""Pages for dispatch rules: the ordered list (move up/down), the form, and the preview
("which rule would take this work order, and why").

Field staff see them; those with ``Cap.MANAGE_DISPATCH_RULES`` change them through
``field.rule_services`` (others get a 403, nothing changes); anyone else gets a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import User
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import DomainError
from frontline.core.pages import ScopedListView, ScopedModelForm, ServiceDeleteView, ServiceFormView
from frontline.core.rest import parse_id
from frontline.field import access, rule_services, rules
from frontline.field.models import DispatchRule, WorkOrder


class FieldStaffOnlyMixin:
    """Only field staff know these pages exist."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.is_field_staff(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class RuleForm(ScopedModelForm):
    class Meta:
        model = DispatchRule
        fields = [*rule_services.RULE_FIELDS, "engineers"]
        widgets = {"engineers": forms.SelectMultiple(attrs={"size": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = self.fields["customer"].queryset.filter(
            kind=OrganizationKind.CUSTOMER
        )
        self.fields["partner"].queryset = self.fields["partner"].queryset.filter(
            kind=OrganizationKind.PARTNER, is_active=True
        )
        self.fields["engineers"].queryset = (
            User.objects.visible_to(self.user)
            .filter(engineer_profile__isnull=False, is_active=True)
            .order_by("display_name", "email")
        )
        self.fields["engineers"].help_text = _(
            "Leave empty for every eligible engineer; otherwise only these get offers."
        )

    def _post_clean(self):
        """The rule's checks are the service's: a page shows the same messages as the API."""

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["engineers"] = list(data.get("engineers") or [])
        return data


class RuleListView(FieldStaffOnlyMixin, ScopedListView):
    model = DispatchRule
    select_related = tuple(rules.RULE_RELATED)
    prefetch_related = ("engineers",)
    search_fields = ("name",)
    sort_fields = {"position": _("Position")}
    default_sort = "position"
    paginate_by = 200
    write_capability = Cap.MANAGE_DISPATCH_RULES
    template_name = "field/rules/list.html"


class RedirectToListMixin:
    template_name = "field/rules/form.html"

    def form_valid(self, form):
        try:
            self.perform(form)
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
            if not exc.fields:
                form.add_error(None, str(exc.message))
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(reverse("field:rule-list"))


class RuleCreateView(FieldStaffOnlyMixin, RedirectToListMixin, ServiceFormView):
    model = DispatchRule
    form_class = RuleForm
    write_capability = Cap.MANAGE_DISPATCH_RULES

    def perform(self, form):
        return rule_services.create_rule(actor=self.request.user, **form.values())


class RuleEditView(RuleCreateView):
    editing = True
    prefetch_related = ("engineers",)

    def perform(self, form):
        return rule_services.update_rule(actor=self.request.user, rule=self.object, **form.values())


class RuleMoveView(FieldStaffOnlyMixin, LoginRequiredMixin, generic.View):
    """POST up/down: the rule is tried one place earlier or later."""

    http_method_names = ["post"]

    def post(self, request, pk):
        rule = DispatchRule.objects.visible_to(request.user).filter(pk=parse_id(pk) or 0).first()
        if rule is None:
            raise Http404
        if not access.may_manage_rules(request.user):
            raise PermissionDenied
        try:
            rule_services.move_rule(
                actor=request.user, rule=rule, direction=request.POST.get("direction", "")
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("field:rule-list"))


class RuleDeleteView(FieldStaffOnlyMixin, ServiceDeleteView):
    model = DispatchRule
    write_capability = Cap.MANAGE_DISPATCH_RULES
    list_url_name = "field:rule-list"
    list_label = _("Dispatch rules")

    def perform(self, obj) -> None:
        rule_services.delete_rule(actor=self.request.user, rule=obj)


def _find_order(user, text: str) -> WorkOrder | None:
    text = (text or "").replace("\x00", "").strip()[:40]
    if not text:
        return None
    cond = Q(number=text)
    if parse_id(text) is not None:
        cond |= Q(pk=parse_id(text))
    found = WorkOrder.objects.visible_to(user).filter(cond).values_list("pk", flat=True).first()
    return None if found is None else rules.load_order(found)


class RulePreviewView(FieldStaffOnlyMixin, LoginRequiredMixin, generic.View):
    """Pick a work order (number or id) and see which rule would take it, and why."""

    def get(self, request):
        query = request.GET.get("work_order", "")
        order = _find_order(request.user, query)
        context = {
            "query": query[:40],
            "order": order,
            "not_found": bool(query.strip()) and order is None,
            "decision": rules.preview(order) if order is not None else None,
            "recent": WorkOrder.objects.visible_to(request.user)
            .filter(status__in=["new", "rejected"])
            .select_related("customer", "site")
            .order_by("-created_at")[:10],
        }
        return render(request, "field/rules/preview.html", context)


urlpatterns = [
    path("dispatch-rules/", RuleListView.as_view(), name="rule-list"),
    path("dispatch-rules/new/", RuleCreateView.as_view(), name="rule-create"),
    path("dispatch-rules/preview/", RulePreviewView.as_view(), name="rule-preview"),
    path("dispatch-rules/<str:pk>/edit/", RuleEditView.as_view(), name="rule-edit"),
    path("dispatch-rules/<str:pk>/move/", RuleMoveView.as_view(), name="rule-move"),
    path("dispatch-rules/<str:pk>/delete/", RuleDeleteView.as_view(), name="rule-delete"),
]
