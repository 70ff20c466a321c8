"""Page forms for tickets (operator pages and the customer portal).

The forms only parse input and offer scoped choices; the services in
``frontline.desk.tickets`` and ``frontline.desk.fire`` validate and decide, so a
page shows exactly the messages the API returns. Every choice of a related object
is limited to what the user can see (``visible_to``); the services check again.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Team, User
from frontline.accounts.roles import CAPABILITIES, Cap, OrganizationKind
from frontline.core.pages import style_form
from frontline.desk.models import Category, SeverityLevel
from frontline.desk.states import Channel, Severity, TicketStatus, Tier, allowed_next
from frontline.sites.models import Asset, Project, Site

BODY_MAX = 50_000
MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks type (by content) and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("At most %(n)d files at once."), code="too_many", params={"n": MAX_FILES}
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class LabelledChoiceField(forms.ModelChoiceField):
    """Choices labelled with their customer, so that one list can serve every customer."""

    def label_from_instance(self, obj):
        if isinstance(obj, Asset):
            customer = obj.site.customer
        elif isinstance(obj, User):
            customer = obj.organization
        else:
            customer = getattr(obj, "customer", None)
        return f"{obj} · {customer.name}" if customer is not None else str(obj)


class CustomerTaggedSelect(forms.Select):
    """Each option carries ``data-customer`` so desk/tickets.js can narrow the list."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        customer_id = _customer_id_of(instance)
        if customer_id is not None:
            option["attrs"]["data-customer"] = str(customer_id)
        return option


def _customer_id_of(obj) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, Asset):
        return obj.site.customer_id
    if isinstance(obj, User):
        return obj.organization_id
    return getattr(obj, "customer_id", None)


def ticket_owner_candidates():
    """Operator people who work tickets: the only ones who can own (or be handed) one."""
    roles = [role for role, caps in CAPABILITIES.items() if Cap.WORK_TICKETS in caps]
    return (
        User.objects.filter(
            is_active=True,
            membership__organization__kind=OrganizationKind.OPERATOR,
            membership__role__in=roles,
        )
        .select_related("membership__organization")
        .order_by("display_name", "pk")
    )


def severity_choices(*, customer: bool = False) -> list[tuple[str, str]]:
    """Severities with the level's configured name (S1 导弹 / missile …)."""
    levels = {lvl.severity: lvl for lvl in SeverityLevel.objects.all()}
    choices = []
    for value, label in Severity.choices:
        level = levels.get(value)
        if customer and level is not None and not level.customer_may_choose:
            continue
        choices.append((value, f"{value} · {level.name}" if level else label))
    return choices


# ---------------------------------------------------------------- operator intake


class TicketCreateForm(StyledForm):
    """Staff intake of a phone call or an email, on behalf of a customer."""

    customer = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("Customer"))
    contact = LabelledChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Contact"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    project = LabelledChoiceField(
        queryset=Project.objects.none(),
        required=False,
        label=_("Project"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    site = LabelledChoiceField(
        queryset=Site.objects.none(),
        required=False,
        label=_("Site"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    asset = LabelledChoiceField(
        queryset=Asset.objects.none(),
        required=False,
        label=_("Asset"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    channel = forms.ChoiceField(
        choices=[(c, label) for c, label in Channel.choices if c in {"phone", "email", "chat"}],
        initial=Channel.PHONE,
        label=_("Channel"),
    )
    severity = forms.ChoiceField(choices=(), initial=Severity.S3, label=_("Severity"))
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=BODY_MAX,
        required=False,
        label=_("Description"),
        help_text=_("Basic formatting is kept; scripts and styles are removed."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Organization.objects.visible_to(user).filter(
            kind=OrganizationKind.CUSTOMER, is_active=True
        )
        self.fields["contact"].queryset = (
            User.objects.visible_to(user)
            .filter(is_active=True, membership__organization__kind=OrganizationKind.CUSTOMER)
            .select_related("membership__organization")
        )
        self.fields["project"].queryset = Project.objects.visible_to(user).select_related(
            "customer"
        )
        self.fields["site"].queryset = Site.objects.visible_to(user).select_related("customer")
        self.fields["asset"].queryset = Asset.objects.visible_to(user).select_related(
            "site__customer"
        )
        self.fields["severity"].choices = severity_choices()


# ---------------------------------------------------------------- ticket actions (staff)


class BodyForm(StyledForm):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=BODY_MAX, label=_("Message")
    )
    files = MultipleFileField(label=_("Attachments"))


class ReplyForm(BodyForm):
    prefix = "reply"


class NoteForm(BodyForm):
    prefix = "note"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = _("Internal note")


class TransitionForm(StyledForm):
    prefix = "transition"
    # Any status is accepted here so that the service says why a step is not allowed;
    # the widget offers only the allowed next statuses.
    to_status = forms.ChoiceField(choices=TicketStatus.choices, label=_("New status"))
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=BODY_MAX,
        required=False,
        label=_("Comment"),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(TicketStatus.choices)
        self.fields["to_status"].widget.choices = [
            (s, labels[s]) for s in allowed_next(ticket.status)
        ]


class HandOffForm(StyledForm):
    prefix = "handoff"
    to_user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Hand over to"))
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        label=_("Message"),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = ticket_owner_candidates().exclude(pk=ticket.owner_id)


class ReassignForm(HandOffForm):
    prefix = "reassign"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].label = _("New owner")
        self.fields["message"].label = _("Reason")


class DeclineForm(StyledForm):
    prefix = "decline"
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Reason")
    )


class FireCallForm(StyledForm):
    prefix = "fire"
    level = forms.ChoiceField(choices=(), label=_("Level"))
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Message")
    )

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = severity_choices()
        if ticket is not None:
            self.fields["level"].initial = ticket.severity


class BriefForm(StyledForm):
    prefix = "brief"
    symptom = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Symptom"))
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Impact"))
    scope = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Scope"))
    workaround = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Workaround")
    )
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Root cause"))
    fix = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Fix"))
    prevention = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Prevention"))

    FIELDS = ("symptom", "impact", "scope", "workaround", "root_cause", "fix", "prevention")

    def __init__(self, *args, brief=None, **kwargs):
        if brief is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {name: getattr(brief, name) for name in self.FIELDS}
        super().__init__(*args, **kwargs)


class TicketFieldsForm(StyledForm):
    prefix = "fields"
    severity = forms.ChoiceField(choices=(), label=_("Severity"))
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label=_("Team"))
    tier = forms.ChoiceField(choices=Tier.choices, label=_("Tier"))
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label=_("Category")
    )
    tags = forms.CharField(
        required=False,
        max_length=1200,
        label=_("Tags"),
        help_text=_("Separated by commas; new tags are created."),
    )

    NAMES = ("severity", "team", "tier", "category", "tags")

    def __init__(self, *args, ticket, user, tag_names=(), **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "severity": ticket.severity,
                "team": ticket.team_id,
                "tier": ticket.tier,
                "category": ticket.category_id,
                "tags": ", ".join(tag_names),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = severity_choices()
        self.fields["team"].queryset = Team.objects.visible_to(user).filter(
            is_active=True, organization__kind=OrganizationKind.OPERATOR
        )
        self.fields["category"].queryset = Category.objects.visible_to(user).filter(is_active=True)
        self.ticket = ticket
        self.tag_names = list(tag_names)

    def clean_tags(self) -> list[str]:
        names = [" ".join(n.split()) for n in self.cleaned_data["tags"].split(",")]
        return list(dict.fromkeys(n for n in names if n))

    def changes(self) -> dict:
        """Only what differs from the ticket, so that the timeline records real changes."""
        data = self.cleaned_data
        ticket = self.ticket
        changes = {}
        if data["severity"] != ticket.severity:
            changes["severity"] = data["severity"]
        if data["tier"] != ticket.tier:
            changes["tier"] = data["tier"]
        if (data["team"].pk if data["team"] else None) != ticket.team_id:
            changes["team"] = data["team"]
        if (data["category"].pk if data["category"] else None) != ticket.category_id:
            changes["category"] = data["category"]
        if set(data["tags"]) != set(self.tag_names):
            changes["tags"] = data["tags"]
        return changes


# ---------------------------------------------------------------- customer portal


class PortalTicketForm(StyledForm):
    """What a customer may set: never owner, status, team or a severity the portal does not offer."""

    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=BODY_MAX,
        label=_("Description"),
        help_text=_("What happened, since when, and what you have tried."),
    )
    severity = forms.ChoiceField(choices=(), label=_("Severity"))
    site = forms.ModelChoiceField(queryset=Site.objects.none(), required=False, label=_("Site"))
    asset = forms.ModelChoiceField(
        queryset=Asset.objects.none(), required=False, label=_("Equipment")
    )
    files = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = severity_choices(customer=True)
        self.fields["severity"].choices = choices
        if any(value == Severity.S3 for value, _label in choices):
            self.fields["severity"].initial = Severity.S3
        self.fields["site"].queryset = Site.objects.visible_to(user).filter(is_active=True)
        self.fields["asset"].queryset = Asset.objects.visible_to(user).select_related("site")


class PortalReplyForm(BodyForm):
    prefix = "reply"


class ReopenForm(StyledForm):
    prefix = "reopen"
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("What is still wrong?")
    )


class RateForm(StyledForm):
    prefix = "rate"
    rating = forms.TypedChoiceField(
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        label=_("Rating (1–5)"),
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        label=_("Comment"),
    )
