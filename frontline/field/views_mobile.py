"""The engineer's phone: today's jobs in route order, one job's next step, the grab offers.

Only users who do field work (``Cap.DO_FIELD_WORK``) use these pages; anyone else, and
anyone asking for a job that is not theirs, gets a 404. Every action is a plain POST
that calls exactly one service; a refusal re-renders the page with the service's
message and changes nothing; success redirects back (post/redirect/get).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.rest import parse_id
from frontline.desk.views_actions import apply_error
from frontline.field import access, services
from frontline.field import forms_mobile as mf
from frontline.field.engineers import site_point
from frontline.field.models import (
    ChecklistItem,
    GrabOffer,
    WorkOrder,
    WorkOrderPhoto,
    WorkOrderSkill,
)
from frontline.field.states import ASSIGNED_STATUSES, ChecklistResult, OfferStatus
from frontline.field.states import WorkOrderStatus as W

PING_SECONDS = 180
# A job in one of these states renders every later step too (hidden): offline, the phone
# moves the job on from what it queued (sync/outbox.js) with the page's own markup.
LIVE_STATUSES = (W.DISPATCHED, W.ACCEPTED, W.EN_ROUTE, W.ON_SITE)


def position_url() -> str:
    """The position API (another module's); mobile.js stops pinging when it answers 404."""
    try:
        return reverse("api-v1:engineer-me-position")
    except NoReverseMatch:
        return "/api/v1/engineers/me/position/"


def photo_url(photo) -> str:
    try:
        return reverse("api-v1:work-order-photo-download", args=[photo.pk])
    except NoReverseMatch:
        return ""


class MobileMixin(LoginRequiredMixin):
    """Engineers only; for everyone else these pages do not exist."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.may_do_field_work(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def my_job(request, pk) -> WorkOrder:
    """One of the engineer's own work orders, or a 404 (anyone else's looks absent)."""
    job_id = parse_id(pk)
    if job_id is None:
        raise Http404
    qs = WorkOrder.objects.visible_to(request.user).filter(assignee=request.user)
    try:
        return qs.select_related("site", "customer").get(pk=job_id)
    except WorkOrder.DoesNotExist:
        raise Http404


def navigation_links(site) -> list[dict]:
    """Links that open the phone's map app at the site; nothing is loaded from them here."""
    point = site_point(site)
    if point is None:
        return []
    lat, lon = (f"{v:.6f}" for v in point)
    label = site.name[:60]
    amap = urlencode(
        {"to": f"{lon},{lat},{label}", "mode": "car", "coordinate": "wgs84",
         "callnative": "1", "src": "frontline"}
    )  # fmt: skip
    baidu = urlencode(
        {"location": f"{lat},{lon}", "title": label, "content": site.address or label,
         "coord_type": "wgs84", "output": "html", "src": "frontline"}
    )  # fmt: skip
    return [
        {"label": _("Maps app"), "url": f"geo:{lat},{lon}?q={lat},{lon}({quote(label)})",
         "testid": "nav-geo", "icon": "geo-alt"},
        {"label": _("Amap"), "url": f"https://uri.amap.com/navigation?{amap}",
         "testid": "nav-amap", "icon": "signpost-split"},
        {"label": _("Baidu Maps"), "url": f"https://api.map.baidu.com/marker?{baidu}",
         "testid": "nav-baidu", "icon": "map"},
    ]  # fmt: skip


def todays_jobs(user) -> list[WorkOrder]:
    """The engineer's open jobs due today or earlier (or unplanned), in route order."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    end = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=timezone.get_current_timezone())
    due = (
        Q(planned_start__lt=end)
        | Q(planned_start__isnull=True, window_start__lt=end)
        | Q(planned_start__isnull=True, window_start__isnull=True)
    )
    qs = (
        WorkOrder.objects.visible_to(user)
        .filter(due, assignee=user, status__in=ASSIGNED_STATUSES)
        .select_related("site", "customer")
        .order_by(
            F("route_position").asc(nulls_last=True),
            F("planned_start").asc(nulls_last=True),
            F("window_start").asc(nulls_last=True),
            "pk",
        )
    )
    jobs = list(qs[:100])
    for job in jobs:
        job.nav_links = navigation_links(job.site)
    return jobs


def done_today(user) -> int:
    start = dt.datetime.combine(
        timezone.localdate(), dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    return WorkOrder.objects.visible_to(user).filter(assignee=user, completed_at__gte=start).count()


def open_offers(user):
    """Offers made to this engineer that can still be claimed."""
    return (
        GrabOffer.objects.visible_to(user)
        .filter(recipients=user, status=OfferStatus.OPEN, expires_at__gt=timezone.now())
        .select_related("work_order__site", "work_order__customer")
        .order_by("expires_at", "pk")
    )


def is_pinging(jobs) -> bool:
    return any(job.status == W.EN_ROUTE for job in jobs)


class TodayView(MobileMixin, generic.TemplateView):
    template_name = "field/mobile/today.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        jobs = todays_jobs(user)
        ctx.update(
            jobs=jobs,
            done_count=done_today(user),
            offer_count=open_offers(user).count(),
            today=timezone.localdate(),
            pinging=is_pinging(jobs),
            position_url=position_url(),
            ping_seconds=PING_SECONDS,
            tab="today",
        )
        return ctx


def offers_context(request, *, claim_error=None, claim_offer_id=None) -> dict:
    offers = list(open_offers(request.user)[:50])
    for grab in offers:
        grab.nav_links = navigation_links(grab.work_order.site)
    return {
        "offers": offers,
        "claim_error": claim_error,
        "claim_offer_id": claim_offer_id,
        "tab": "offers",
        "now": timezone.now(),
    }


class OffersView(MobileMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request):
        return render(request, "field/mobile/offers.html", offers_context(request))


class ClaimView(MobileMixin, generic.View):
    """The first valid claim wins; a late, expired or ineligible one says why (409)."""

    http_method_names = ["post"]

    def post(self, request, offer_id):
        grab_id = parse_id(offer_id)
        if grab_id is None:
            raise Http404
        try:
            job = services.claim_offer(actor=request.user, offer_id=grab_id)
        except DomainPermissionDenied:
            raise Http404
        except DomainError as exc:
            context = offers_context(request, claim_error=str(exc.message), claim_offer_id=grab_id)
            context["claim_code"] = exc.code
            return render(request, "field/mobile/offers.html", context, status=exc.status)
        messages.success(request, _("The job is yours: %(n)s.") % {"n": job.number})
        return HttpResponseRedirect(reverse("field:mobile-job", args=[job.pk]))


def job_context(request, job, bound=None) -> dict:
    checklist = list(ChecklistItem.objects.filter(work_order=job))
    forms = {
        "reject": mf.ReasonForm(prefix="reject"),
        "hold": mf.ReasonForm(prefix="hold"),
        "travel": mf.PositionForm(),
        "check_in": mf.PositionForm(),
        "checklist": None,
        "photo": mf.PhotoForm(),
        "sign": mf.SignForm(),
        "complete": mf.CompleteForm(),
    }
    forms.update(bound or {})
    checklist_form = forms["checklist"]
    failed_item = None
    if checklist_form is not None:
        failed_item = parse_id(checklist_form.data.get("item", ""))
    photos = list(WorkOrderPhoto.objects.filter(work_order=job).order_by("created_at"))
    for photo in photos:
        photo.url = photo_url(photo)
    pending = sum(1 for item in checklist if item.result == ChecklistResult.PENDING)
    return {
        "job": job,
        "live": job.status in LIVE_STATUSES,
        "skills": list(WorkOrderSkill.objects.filter(work_order=job).select_related("skill")),
        "checklist": checklist,
        "pending_count": pending,
        "failed_item": failed_item,
        "photos": photos,
        "nav_links": navigation_links(job.site),
        "forms": forms,
        "resolution_codes": mf.RESOLUTION_CODES,
        "checklist_choices": [
            (ChecklistResult.OK, ChecklistResult.OK.label, "success"),
            (ChecklistResult.FAILED, ChecklistResult.FAILED.label, "danger"),
            (ChecklistResult.NOT_APPLICABLE, ChecklistResult.NOT_APPLICABLE.label, "secondary"),
        ],
        "pinging": job.status == W.EN_ROUTE,
        "position_url": position_url(),
        "ping_seconds": PING_SECONDS,
        "tab": "today",
    }


def render_job(request, job, *, bound=None, status=200):
    return render(request, "field/mobile/job.html", job_context(request, job, bound), status=status)


class JobView(MobileMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        return render_job(request, my_job(request, pk))


class JobActionView(MobileMixin, generic.View):
    """POST one step of one job through one service, then back to the job (or its anchor).

    Subclasses set ``form_class`` (or None), ``form_name`` (its key in the page's
    forms), ``prefix``, ``success_message``, ``anchor`` and implement ``perform``.
    """

    http_method_names = ["post"]
    form_class: type | None = None
    form_name = ""
    prefix: str | None = None
    success_message = _("Saved.")
    anchor = ""

    def post(self, request, pk):
        job = my_job(request, pk)
        form = None
        if self.form_class is not None:
            form = self.form_class(data=request.POST, files=request.FILES, prefix=self.prefix)
            if not form.is_valid():
                return render_job(request, job, bound={self.form_name: form}, status=400)
        try:
            after = self.perform(job, form.cleaned_data if form is not None else {})
        except DomainPermissionDenied:
            raise PermissionDenied
        except NotFound:
            raise Http404
        except DomainError as exc:
            # A refusal changed nothing: show what is stored, with the reason.
            job = my_job(request, pk)
            if form is None or exc.status == 409:
                # A conflict is about the job, not the form (which may not even show now).
                messages.error(request, str(exc.message))
                return render_job(request, job, status=exc.status)
            apply_error(form, exc)
            return render_job(request, job, bound={self.form_name: form}, status=exc.status)
        messages.success(request, self.success_message)
        if after is not None:
            return HttpResponseRedirect(after)
        url = reverse("field:mobile-job", args=[job.pk])
        return HttpResponseRedirect(f"{url}#{self.anchor}" if self.anchor else url)

    def perform(self, job, data):  # pragma: no cover - abstract
        raise NotImplementedError


class AcceptView(JobActionView):
    success_message = _("Accepted. Tap “On my way” when you leave.")

    def perform(self, job, data):
        services.accept(actor=self.request.user, work_order=job)


class RejectView(JobActionView):
    form_class = mf.ReasonForm
    form_name = prefix = "reject"
    success_message = _("Rejected: the job is back with the dispatcher.")

    def perform(self, job, data):
        services.reject(actor=self.request.user, work_order=job, reason=data["reason"])
        return reverse("field:mobile-today")


class HoldView(JobActionView):
    form_class = mf.ReasonForm
    form_name = prefix = "hold"
    success_message = _("The job is on hold; the dispatcher can see why.")

    def perform(self, job, data):
        services.hold(actor=self.request.user, work_order=job, reason=data["reason"])


class TravelView(JobActionView):
    form_class = mf.PositionForm
    form_name = "travel"
    success_message = _("On your way: the customer sees your ETA.")

    def perform(self, job, data):
        services.start_travel(actor=self.request.user, work_order=job,
                              latitude=data["latitude"], longitude=data["longitude"])  # fmt: skip


class CheckInView(JobActionView):
    form_class = mf.PositionForm
    form_name = "check_in"
    success_message = _("Checked in on site.")
    anchor = "checklist"

    def perform(self, job, data):
        job = services.check_in(actor=self.request.user, work_order=job,
                                latitude=data["latitude"], longitude=data["longitude"])  # fmt: skip
        if job.check_in_flagged:
            messages.warning(
                self.request,
                _("You checked in %(m)d m from the site: the dispatcher will see this.")
                % {"m": job.check_in_distance_m},
            )


class ChecklistView(JobActionView):
    form_class = mf.ChecklistForm
    form_name = "checklist"
    success_message = _("Checklist item saved.")
    anchor = "checklist"

    def perform(self, job, data):
        services.set_checklist_item(actor=self.request.user, work_order=job, item_id=data["item"],
                                    result=data["result"], note=data["note"])  # fmt: skip


class PhotoView(JobActionView):
    form_class = mf.PhotoForm
    form_name = "photo"
    success_message = _("Photo added.")
    anchor = "photos"

    def perform(self, job, data):
        services.add_photo(actor=self.request.user, work_order=job, file=data["file"],
                           caption=data["caption"], client_id=data["client_id"] or None)  # fmt: skip


class SignView(JobActionView):
    form_class = mf.SignForm
    form_name = "sign"
    success_message = _("Signed. Thank you!")
    anchor = "complete"

    def perform(self, job, data):
        services.sign(actor=self.request.user, work_order=job, signature=data["signature"],
                      signed_by=data["signed_by"])  # fmt: skip


class CompleteView(JobActionView):
    form_class = mf.CompleteForm
    form_name = "complete"
    success_message = _("Job completed. Well done!")

    def perform(self, job, data):
        services.complete(
            actor=self.request.user, work_order=job, resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"], parts_used=data["parts_used"],
            first_time_fix=data["first_time_fix"], latitude=data["latitude"],
            longitude=data["longitude"],
        )  # fmt: skip
        return reverse("field:mobile-today")


ACTIONS = {
    "accept": AcceptView,
    "reject": RejectView,
    "hold": HoldView,
    "travel": TravelView,
    "check-in": CheckInView,
    "checklist": ChecklistView,
    "photo": PhotoView,
    "sign": SignView,
    "complete": CompleteView,
}

urlpatterns = [
    path("m/", TodayView.as_view(), name="mobile-today"),
    path("m/offers/", OffersView.as_view(), name="mobile-offers"),
    path("m/offers/<str:offer_id>/claim/", ClaimView.as_view(), name="mobile-claim"),
    path("m/jobs/<str:pk>/", JobView.as_view(), name="mobile-job"),
    *[
        path(f"m/jobs/<str:pk>/{verb}/", view.as_view(), name=f"mobile-{verb}")
        for verb, view in ACTIONS.items()
    ],
]
