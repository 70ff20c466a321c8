"""Forms on an engineer's profile page, and the new-profile page.

Each action is a small POST view that calls one service in
``frontline.field.engineer_services``; a DomainError becomes the form's error and
nothing changes. A profile one may not see is a 404; changing one without
``Cap.MANAGE_ENGINEERS`` is a 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import Skill
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import style_form
from frontline.core.rest import parse_id
from frontline.desk.views_actions import apply_error
from frontline.field import access
from frontline.field import engineer_services as svc
from frontline.field import forms as field_forms
from frontline.field.models import Certification, Leave, Shift

PROFILE_FIELDS = list(svc.PROFILE_FIELDS)


class SkillForm(field_forms.StyledForm):
    prefix = "skill"
    skill = forms.ModelChoiceField(queryset=Skill.objects.all(), label=_("Skill"))
    level = forms.IntegerField(min_value=0, max_value=5, initial=1, label=_("Level"),
                               help_text=_("0 takes the skill away."))  # fmt: skip


def profile_forms(request, profile, bound=None) -> dict:
    initial = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    out = {
        "edit": field_forms.EngineerProfileForm(
            user=request.user, profile=profile, initial=initial, prefix="edit"
        ),  # fmt: skip
        "skill": SkillForm(),
        "cert": field_forms.CertificationForm(user=request.user),
        "shift": field_forms.ShiftForm(),
        "leave": field_forms.LeaveForm(),
    }
    out.update(bound or {})
    return out


def _profile(request, pk):
    from frontline.field.views_engineers import visible_profile

    return visible_profile(request, pk)


def _render(request, profile, bound=None, status=200):
    from frontline.field.views_engineers import profile_context

    context = profile_context(request, profile, bound)
    return render(request, "field/engineers/detail.html", context, status=status)


class EngineerActionView(LoginRequiredMixin, generic.View):
    """POST one change to one engineer through one service."""

    http_method_names = ["post"]
    form_class = None
    form_name = ""
    success_message = _("Saved.")

    def get_form(self, profile):
        if self.form_class is None:
            return None
        return self.form_class(data=self.request.POST, **self.form_kwargs(profile))

    def form_kwargs(self, profile) -> dict:
        return {}

    def post(self, request, pk):
        profile = _profile(request, pk)
        if not access.may_manage_engineers(request.user):
            raise PermissionDenied
        form = self.get_form(profile)
        if form is not None and not form.is_valid():
            return self.failed(profile, form, 400)
        try:
            self.perform(profile, form.cleaned_data if form is not None else {})
        except DomainPermissionDenied:
            raise PermissionDenied
        except NotFound:
            raise Http404
        except DomainError as exc:
            if form is None:
                messages.error(request, str(exc.message))
                return self.failed(profile, None, exc.status)
            apply_error(form, exc)
            return self.failed(profile, form, exc.status)
        messages.success(request, self.success_message)
        return HttpResponseRedirect(reverse("field:engineer-detail", args=[profile.user_id]))

    def failed(self, profile, form, status):
        profile = _profile(self.request, profile.user_id)
        bound = {self.form_name: form} if form is not None else None
        return _render(self.request, profile, bound, status)

    def owned(self, model, profile):
        """A row of this engineer named by ``id`` in the POST; else 404."""
        pk = parse_id(self.request.POST.get("id", ""))
        row = model.objects.filter(pk=pk, user_id=profile.user_id).first() if pk else None
        if row is None:
            raise Http404
        return row

    def perform(self, profile, data):  # pragma: no cover - abstract
        raise NotImplementedError


class EditProfileView(EngineerActionView):
    form_class = field_forms.EngineerProfileForm
    form_name = "edit"
    success_message = _("Profile saved.")

    def form_kwargs(self, profile):
        return {"user": self.request.user, "profile": profile, "prefix": "edit"}

    def perform(self, profile, data):
        svc.update_profile(actor=self.request.user, profile=profile,
                           **{k: data[k] for k in PROFILE_FIELDS})  # fmt: skip


class SkillView(EngineerActionView):
    form_class = SkillForm
    form_name = "skill"
    success_message = _("Skill saved.")

    def perform(self, profile, data):
        svc.set_skill(actor=self.request.user, user=profile.user, skill=data["skill"],
                      level=data["level"])  # fmt: skip


class CertificationView(EngineerActionView):
    form_class = field_forms.CertificationForm
    form_name = "cert"
    success_message = _("Certification added.")

    def form_kwargs(self, profile):
        return {"user": self.request.user}

    def perform(self, profile, data):
        svc.add_certification(actor=self.request.user, user=profile.user, **data)


class RemoveCertificationView(EngineerActionView):
    success_message = _("Certification removed.")

    def perform(self, profile, data):
        cert = self.owned(Certification, profile)
        svc.remove_certification(actor=self.request.user, certification=cert)


class ShiftView(EngineerActionView):
    form_class = field_forms.ShiftForm
    form_name = "shift"
    success_message = _("Shift saved.")

    def perform(self, profile, data):
        svc.set_shift(actor=self.request.user, user=profile.user, **data)


class ClearShiftView(EngineerActionView):
    success_message = _("Back to the regular working day.")

    def perform(self, profile, data):
        svc.clear_shift(actor=self.request.user, shift=self.owned(Shift, profile))


class LeaveView(EngineerActionView):
    form_class = field_forms.LeaveForm
    form_name = "leave"
    success_message = _("Leave entered.")

    def perform(self, profile, data):
        svc.add_leave(actor=self.request.user, user=profile.user, **data)


class CancelLeaveView(EngineerActionView):
    success_message = _("Leave cancelled.")

    def perform(self, profile, data):
        svc.cancel_leave(actor=self.request.user, leave=self.owned(Leave, profile))


class EngineerCreateView(LoginRequiredMixin, generic.FormView):
    """A profile for someone whose role does field work: then dispatch can use them."""

    form_class = field_forms.EngineerProfileForm
    template_name = "field/engineers/form.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        from frontline.field.views_engineers import may_view_engineers

        if not may_view_engineers(request.user):
            raise Http404
        if not access.may_manage_engineers(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        style_form(form)
        return form

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            profile = svc.create_profile(actor=self.request.user, user=data["user"],
                                         **{k: data[k] for k in PROFILE_FIELDS})  # fmt: skip
        except DomainError as exc:
            apply_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Engineer profile created."))
        return HttpResponseRedirect(reverse("field:engineer-detail", args=[profile.user_id]))


ACTIONS = {
    "edit": EditProfileView,
    "skill": SkillView,
    "certification": CertificationView,
    "certification-remove": RemoveCertificationView,
    "shift": ShiftView,
    "shift-clear": ClearShiftView,
    "leave": LeaveView,
    "leave-cancel": CancelLeaveView,
}

create_patterns = [path("engineers/new/", EngineerCreateView.as_view(), name="engineer-create")]

urlpatterns = [
    path(f"engineers/<str:pk>/{verb}/", view.as_view(), name=f"engineer-{verb}")
    for verb, view in ACTIONS.items()
]
