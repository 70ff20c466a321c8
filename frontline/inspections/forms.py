"""Route configuration forms and the filter sets shared by the route pages and API.

Forms only shape input: every save goes through :mod:`frontline.inspections.config`,
whose field errors come back into the form. Related choices are limited to what the
user can see.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet

from frontline.accounts.models import Team, User
from frontline.accounts.roles import Role
from frontline.core.filters import BooleanFilter
from frontline.core.pages import BootstrapFormMixin, style_form
from frontline.field.states import Priority, WorkOrderType
from frontline.inspections.models import QualityScheme, Route, Schedule, Sop, SopVersion
from frontline.inspections.states import (
    AnomalyAction,
    Comparator,
    ItemKind,
    KpiKind,
    KpiMetric,
    ScheduleKind,
)
from frontline.sites.filters import ScopedModelChoiceFilter
from frontline.sites.models import Asset, Project, Site


def _user(request):
    return getattr(request, "user", None)


def projects(request):
    return Project.objects.visible_to(_user(request))


def sites(request):
    return Site.objects.visible_to(_user(request))


def routes(request):
    return Route.objects.visible_to(_user(request))


# ---------------------------------------------------------------- filters


class RouteFilter(FilterSet):
    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    site = ScopedModelChoiceFilter(queryset=sites, label=_("Site"))
    active = BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Route
        fields: list[str] = []


class ScheduleFilter(FilterSet):
    route = ScopedModelChoiceFilter(queryset=routes, label=_("Route"))
    active = BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Schedule
        fields: list[str] = []


class SopFilter(FilterSet):
    active = BooleanFilter(field_name="is_active", label=_("Active"))
    work_order_type = django_filters.CharFilter(max_length=24, label=_("Work-order type"))

    class Meta:
        model = Sop
        fields: list[str] = []


# ---------------------------------------------------------------- forms
#
# Plain forms (not ModelForms): nothing here saves; ``data()`` gives the keyword
# arguments of the matching service in ``frontline.inspections.config``.

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
SPLIT = re.compile(r"[,，;；\n]")


def split_list(text: str) -> list[str]:
    return [part.strip() for part in SPLIT.split(text or "") if part.strip()]


class ConfigForm(BootstrapFormMixin, forms.Form):
    """Initial values from ``instance``; related choices scoped to ``user``."""

    model_fields: tuple[str, ...] = ()

    def __init__(self, *args, user, instance=None, parent=None, **kwargs):
        self.user, self.instance, self.parent = user, instance, parent
        if instance is not None and not kwargs.get("initial"):
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)

    def initial_from(self, instance) -> dict:
        return {name: getattr(instance, name) for name in self.model_fields}

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.model_fields if name in self.fields}


class RouteForm(ConfigForm):
    model_fields = ("project", "site", "code", "name", "description", "expected_minutes",
                    "sop_version", "quality_scheme", "anomaly_action", "anomaly_priority",
                    "anomaly_team")  # fmt: skip
    project = forms.ModelChoiceField(Project.objects.none(), label=_("Project"))
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("For example CEA or FXB."))
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    expected_minutes = forms.IntegerField(label=_("Expected duration (minutes)"), min_value=1,
                                          max_value=24 * 60, initial=60)  # fmt: skip
    sop_version = forms.ModelChoiceField(SopVersion.objects.none(), required=False,
                                         label=_("Active SOP version"))  # fmt: skip
    quality_scheme = forms.ModelChoiceField(QualityScheme.objects.none(), required=False,
                                            label=_("Quality scheme"),
                                            empty_label=_("Default weights"))  # fmt: skip
    anomaly_action = forms.ChoiceField(label=_("An anomaly opens"), choices=AnomalyAction.choices,
                                       initial=AnomalyAction.WORK_ORDER)  # fmt: skip
    anomaly_priority = forms.ChoiceField(label=_("At priority"), choices=Priority.choices,
                                         initial=Priority.NORMAL)  # fmt: skip
    anomaly_team = forms.ModelChoiceField(Team.objects.none(), required=False, label=_("For team"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.user
        self.fields["project"].queryset = Project.objects.visible_to(user).order_by("code")
        self.fields["site"].queryset = Site.objects.visible_to(user).order_by("name")
        self.fields["sop_version"].queryset = (
            SopVersion.objects.visible_to(user)
            .filter(sop__work_order_type="", sop__is_active=True)
            .select_related("sop")
            .order_by("sop__code", "-number")
        )
        self.fields["quality_scheme"].queryset = QualityScheme.objects.visible_to(user)
        self.fields["anomaly_team"].queryset = Team.objects.visible_to(user).filter(is_active=True)


class CheckpointForm(ConfigForm):
    model_fields = ("code", "name", "location", "asset")
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    asset = forms.ModelChoiceField(Asset.objects.none(), required=False, label=_("Asset"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        route = self.parent if self.parent is not None else self.instance.route
        self.fields["asset"].queryset = (
            Asset.objects.visible_to(self.user).filter(site_id=route.site_id).order_by("name")
        )


class CheckItemForm(ConfigForm):
    model_fields = ("name", "kind", "unit", "normal_min", "normal_max", "choices",
                    "abnormal_choices", "normal_answer", "anomaly_when_abnormal",
                    "photo_required", "required")  # fmt: skip
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    normal_min = forms.DecimalField(label=_("Normal minimum"), required=False, max_digits=14,
                                    decimal_places=4)  # fmt: skip
    normal_max = forms.DecimalField(label=_("Normal maximum"), required=False, max_digits=14,
                                    decimal_places=4)  # fmt: skip
    choices = forms.CharField(label=_("Choices"), required=False, max_length=3000,
                              help_text=_("For a choice item: separated by commas."))  # fmt: skip
    abnormal_choices = forms.CharField(
        label=_("Abnormal choices"), required=False, max_length=3000,
        help_text=_("Choices that raise an anomaly."),
    )  # fmt: skip
    normal_answer = forms.TypedChoiceField(
        label=_("Normal answer (yes/no checks)"),
        choices=[("true", _("Yes")), ("false", _("No"))],
        coerce=lambda v: v == "true",
        initial="true",
    )
    anomaly_when_abnormal = forms.BooleanField(label=_("Abnormal value raises an anomaly"),
                                               required=False, initial=True)  # fmt: skip
    photo_required = forms.BooleanField(label=_("Photo required"), required=False)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)

    def initial_from(self, instance) -> dict:
        initial = super().initial_from(instance)
        initial["choices"] = ", ".join(instance.choices or [])
        initial["abnormal_choices"] = ", ".join(instance.abnormal_choices or [])
        initial["normal_answer"] = "true" if instance.normal_answer else "false"
        return initial

    def clean_choices(self):
        return split_list(self.cleaned_data.get("choices", ""))

    def clean_abnormal_choices(self):
        return split_list(self.cleaned_data.get("abnormal_choices", ""))


class ScheduleForm(ConfigForm):
    model_fields = ("kind", "times", "weekdays", "every_hours", "window_minutes", "team",
                    "engineer", "offer_for_grab", "starts_on", "ends_on", "is_active")  # fmt: skip
    kind = forms.ChoiceField(label=_("Repeats"), choices=ScheduleKind.choices)
    times = forms.CharField(label=_("Start times"), required=False, max_length=200,
                            help_text=_("Local times such as 08:00, 20:00."))  # fmt: skip
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple,
        choices=[(i, name) for i, name in WEEKDAYS.items()],
    )  # fmt: skip
    every_hours = forms.IntegerField(label=_("Every N hours"), required=False, min_value=1,
                                     max_value=168)  # fmt: skip
    window_minutes = forms.IntegerField(label=_("Time window (minutes)"), min_value=5,
                                        max_value=7 * 24 * 60, initial=120)  # fmt: skip
    team = forms.ModelChoiceField(Team.objects.none(), required=False, label=_("Team"))
    engineer = forms.ModelChoiceField(User.objects.none(), required=False, label=_("Engineer"))
    offer_for_grab = forms.BooleanField(label=_("Offer for grab"), required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=_DATE)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=_DATE)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.visible_to(self.user).filter(is_active=True)
        self.fields["engineer"].queryset = (
            User.objects.visible_to(self.user)
            .filter(membership__role=Role.ENGINEER, is_active=True)
            .order_by("display_name", "email")
        )
        self.fields["weekdays"].widget.attrs.pop("class", None)
        if self.instance is None:
            self.fields["starts_on"].initial = timezone.localdate()

    def initial_from(self, instance) -> dict:
        initial = super().initial_from(instance)
        initial["times"] = ", ".join(instance.times or [])
        return initial

    def clean_times(self):
        return split_list(self.cleaned_data.get("times", ""))


class QualitySchemeForm(ConfigForm):
    model_fields = ("name", "coverage_weight", "timeliness_weight", "anomalies_weight",
                    "pace_weight", "photos_weight", "min_seconds_per_point", "standard")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's own labels, help texts and limits.
        self.fields.update(fields_for_model(QualityScheme, fields=self.model_fields))
        style_form(self)


class SopForm(ConfigForm):
    model_fields = ("code", "title", "work_order_type")
    code = forms.CharField(label=_("Code"), max_length=40)
    title = forms.CharField(label=_("Title"), max_length=200)
    work_order_type = forms.ChoiceField(
        label=_("Work-order type"), required=False,
        choices=[("", _("Inspection SOP (for routes)")), *WorkOrderType.choices],
    )  # fmt: skip


class SopVersionForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(label=_("Procedure"), required=False, max_length=100_000,
                           widget=forms.Textarea(attrs={"rows": 10}),
                           help_text=_("Simple HTML is kept; anything unsafe is removed."))  # fmt: skip
    effective_from = forms.DateField(label=_("Effective from"), widget=_DATE)

    def __init__(self, *args, user=None, instance=None, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = timezone.localdate()


class KpiForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=KpiKind.choices)
    metric = forms.ChoiceField(label=_("Metric"), choices=[("", "—"), *KpiMetric.choices],
                               required=False)  # fmt: skip
    comparator = forms.ChoiceField(label=_("Comparator"), choices=Comparator.choices)
    target = forms.DecimalField(label=_("Target"), required=False, max_digits=10,
                                decimal_places=4,
                                help_text=_("Rates as fractions: 0.8 for 80 %."))  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("metric") and data.get("target") is None:
            self.add_error("target", _("Give a target."))
        return data


KpiFormSet = forms.formset_factory(KpiForm, extra=4, max_num=20, validate_max=True)


class ImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("Excel file (.xlsx)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))  # fmt: skip
