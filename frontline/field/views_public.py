"""Pages that need no login, reached by a tokenised link from an email: the customer's
visit timeline with the ETA (``/t/<token>/``) and the survey (``/s/<token>/``).

An unknown, expired, revoked or wrong-purpose token is a 404, like any record one may
not see; every request (good token or guess) counts against a per-address cap (429 with
``Retry-After``). The pages send no referrer (the token is in the address), ask not to
be indexed or cached, and show only the customer-safe view of the visit.
"""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views import generic

from frontline.core.errors import Conflict, DomainError, NotFound
from frontline.core.pages import is_htmx
from frontline.desk.views_actions import apply_error
from frontline.field import links, services, throttle
from frontline.field.forms_mobile import SurveyForm
from frontline.field.models import PublicLink, Survey, WorkOrder
from frontline.field.states import WorkOrderStatus
from frontline.field.views_portal import visit_context

SESSION_ANSWERED = "field_surveys_answered"


def private(response, referrer_policy="no-referrer"):
    response["Referrer-Policy"] = referrer_policy
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store, private"
    return response


class PublicView(generic.View):
    """Throttled by client address before anything else; private headers on every answer."""

    scope = "public"
    # A form page keeps the referrer to its own origin: with none at all, browsers send
    # "Origin: null" on the POST and the CSRF check refuses it. Never to other origins.
    referrer_policy = "no-referrer"

    def dispatch(self, request, *args, **kwargs):
        wait = throttle.retry_after(request, self.scope)
        if wait is not None:
            return private(throttle.too_many_requests(request, wait))
        response = super().dispatch(request, *args, **kwargs)
        return private(response, self.referrer_policy)


def live_link(token, purpose) -> PublicLink:
    try:
        return links.resolve(token, purpose)
    except NotFound:
        raise Http404


def visit_of(link: PublicLink) -> WorkOrder:
    return WorkOrder.objects.select_related("site", "assignee").get(pk=link.work_order_id)


class TimelineView(PublicView):
    """The visit as the customer sees it; htmx polls it for a fresh ETA."""

    http_method_names = ["get", "head", "options"]
    scope = "timeline"

    def get(self, request, token):
        visit = visit_of(live_link(token, PublicLink.Purpose.TIMELINE))
        context = visit_context(visit)
        context["poll_url"] = request.path
        if is_htmx(request):
            return render(request, "field/portal/partials/visit.html", context)
        return render(request, "field/public/timeline.html", context)


def _fingerprint(token) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def answered_here(request, token) -> bool:
    """This browser answered with this token (the link itself no longer works)."""
    return _fingerprint(token) in request.session.get(SESSION_ANSWERED, [])


def remember_answer(request, token) -> None:
    done = [*request.session.get(SESSION_ANSWERED, []), _fingerprint(token)]
    request.session[SESSION_ANSWERED] = done[-20:]


class SurveyView(PublicView):
    """CSAT 1–5, NPS 0–10 and a comment, once; then a thank-you page."""

    http_method_names = ["get", "post", "head", "options"]
    scope = "survey"
    referrer_policy = "same-origin"

    def answered(self, status=200):
        return render(self.request, "field/public/survey_answered.html", status=status)

    def open_survey(self, token) -> tuple[PublicLink, WorkOrder]:
        link = live_link(token, PublicLink.Purpose.SURVEY)
        visit = visit_of(link)
        if visit.status != WorkOrderStatus.CLOSED:
            raise Http404
        return link, visit

    def show(self, visit, form, status=200):
        context = {
            "visit": visit,
            "engineer_name": visit.assignee.display_name if visit.assignee_id else "",
            "form": form,
            "csat_choices": range(1, 6),
            "nps_choices": range(0, 11),
        }
        return render(self.request, "field/public/survey.html", context, status=status)

    def get(self, request, token):
        if answered_here(request, token):
            return self.answered()
        _, visit = self.open_survey(token)
        if Survey.objects.filter(work_order=visit).exists():
            return self.answered()
        return self.show(visit, SurveyForm())

    def post(self, request, token):
        if answered_here(request, token):
            return self.answered(status=409)
        _, visit = self.open_survey(token)
        form = SurveyForm(data=request.POST)
        if not form.is_valid():
            return self.show(visit, form, status=400)
        data = form.cleaned_data
        try:
            services.submit_survey(
                token=token, csat=data["csat"], nps=data["nps"], comment=data["comment"]
            )
        except NotFound:
            raise Http404
        except Conflict:
            return self.answered(status=409)
        except DomainError as exc:
            apply_error(form, exc)
            return self.show(visit, form, status=exc.status)
        remember_answer(request, token)
        return HttpResponseRedirect(reverse("field:public-survey-thanks"))


class SurveyThanksView(PublicView):
    http_method_names = ["get", "head", "options"]
    scope = "survey"
    referrer_policy = "same-origin"

    def get(self, request):
        return render(request, "field/public/survey_thanks.html")


urlpatterns = [
    path("t/<str:token>/", TimelineView.as_view(), name="public-timeline"),
    path("s/thanks/", SurveyThanksView.as_view(), name="public-survey-thanks"),
    path("s/<str:token>/", SurveyView.as_view(), name="public-survey"),
]
