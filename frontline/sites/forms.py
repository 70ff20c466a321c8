"""Page forms for sites, projects and assets.

The forms only parse input; the services validate it (uniqueness, coordinates,
customers, parents …), so a page shows exactly the messages the API returns.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import TIME_ZONES, Organization
from frontline.accounts.roles import OrganizationKind
from frontline.core.pages import ScopedModelForm
from frontline.sites.models import Asset, AssetModel, Project, Site
from frontline.sites.services import DEFAULT_TIME_ZONE

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class SiteLabelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.customer.name}"


class ServiceModelForm(ScopedModelForm):
    """A model form that leaves model validation to the service it feeds.

    ModelForm would copy the input onto the instance and run the model's own checks;
    the service re-reads the row and checks everything, and its field errors are put
    back on this form by ``ServiceFormView``.
    """

    def _post_clean(self):
        pass


def _customers():
    return Organization.objects.filter(kind=OrganizationKind.CUSTOMER)


class SiteForm(ServiceModelForm):
    customer = forms.ModelChoiceField(queryset=_customers(), label=_("Customer"))
    time_zone = forms.ChoiceField(
        choices=[(tz, tz) for tz in TIME_ZONES], initial=DEFAULT_TIME_ZONE, label=_("Time zone")
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "customer",
            "address",
            "city",
            "latitude",
            "longitude",
            "time_zone",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "latitude": _(
                "Decimal degrees, e.g. 31.2304. Leave both coordinates empty if unknown."
            ),
        }


class SiteEditForm(SiteForm):
    class Meta(SiteForm.Meta):
        fields = [*SiteForm.Meta.fields, "is_active"]


class ProjectForm(ServiceModelForm):
    customer = forms.ModelChoiceField(queryset=_customers(), label=_("Customer"))
    sites = SiteLabelChoiceField(
        queryset=Site.objects.select_related("customer"),
        required=False,
        label=_("Sites"),
        help_text=_("Only sites of the project's customer can be chosen."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    class Meta:
        model = Project
        fields = [
            "code",
            "name",
            "customer",
            "sites",
            "contract_start",
            "contract_end",
            "description",
        ]
        widgets = {
            "contract_start": _DATE,
            "contract_end": _DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["sites"] = list(data.get("sites") or [])
        return data


class ProjectEditForm(ProjectForm):
    class Meta(ProjectForm.Meta):
        fields = [*ProjectForm.Meta.fields, "is_active"]


class AssetForm(ServiceModelForm):
    site = forms.ModelChoiceField(queryset=Site.objects.all(), label=_("Site"))
    model = forms.ModelChoiceField(queryset=AssetModel.objects.all(), label=_("Model"))
    parent = forms.ModelChoiceField(
        queryset=Asset.objects.all(),
        required=False,
        label=_("Part of"),
        help_text=_("The larger asset this one belongs to, at the same site."),
    )

    class Meta:
        model = Asset
        fields = ["name", "serial", "site", "model", "parent", "location", "installed_on", "status"]
        widgets = {"installed_on": _DATE}
