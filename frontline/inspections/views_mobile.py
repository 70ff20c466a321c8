"""The engineer's phone for rounds: today's and the next rounds, the ones on offer, and
one round's screen (scan or pick a checkpoint, record its items, save and move on).

Only users who walk rounds (``may_do_rounds``) use these pages; anyone else, and anyone
asking for a round that is not theirs to do, gets a 404. The pages only render: every
change (claim, start, visit, skip, finish) goes through the API from
``inspections/round.js``, which is what the API's own clients use too. Data reaches the
script through ``json_script`` (the CSP forbids inline script).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from django.http import Http404
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from django.views import generic

from frontline.core.rest import parse_id
from frontline.inspections import access
from frontline.inspections.models import CheckItem, Checkpoint, PointVisit, Round
from frontline.inspections.states import OPEN_ROUND_STATUSES, ItemKind, RoundStatus, SkipReason
from frontline.inspections.views_rounds import QUALITY_PARTS

R = RoundStatus
FINISHED = (R.COMPLETED, R.MISSED)


class MobileMixin(LoginRequiredMixin):
    """Engineers who walk rounds only; for everyone else these pages do not exist."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.may_do_rounds(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def api_url(action: str, pk: int) -> str:
    """The rounds API's URL for ``action`` on round ``pk`` (its route names, else its paths)."""
    name = "api-v1:round-detail" if action == "detail" else f"api-v1:round-{action}"
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        suffix = "" if action == "detail" else f"{action}/"
        return f"/api/v1/rounds/{pk}/{suffix}"


def my_team_ids(user) -> list[int]:
    return list(user.teams.values_list("pk", flat=True))


def mine_or_my_team(user, teams: list[int]) -> Q:
    """Rounds assigned to the engineer, or to one of their teams with nobody on them yet
    (the first engineer to start such a round takes it)."""
    return Q(assignee=user) | Q(assignee__isnull=True, offered=False, team_id__in=teams)


def open_rounds(user, teams: list[int]) -> list[Round]:
    """Open rounds for today and tomorrow, those in progress first, then by window."""
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    horizon = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=timezone.get_current_timezone())
    doing_first = Case(When(status=R.IN_PROGRESS, then=Value(0)), default=Value(1),
                       output_field=IntegerField())  # fmt: skip
    qs = (
        Round.objects.visible_to(user)
        .filter(mine_or_my_team(user, teams), status__in=OPEN_ROUND_STATUSES)
        .filter(window_start__lt=horizon, window_end__gt=timezone.now() - dt.timedelta(hours=12))
        .select_related("route", "project")
        .order_by(doing_first, "window_start", "pk")
    )
    return list(qs[:50])


def offered_rounds(user, teams: list[int]) -> list[Round]:
    """Rounds on offer to the engineer's teams (or to anyone) whose window is still open."""
    qs = (
        Round.objects.visible_to(user)
        .filter(offered=True, assignee__isnull=True, status=R.SCHEDULED)
        .filter(Q(team__isnull=True) | Q(team_id__in=teams), window_end__gt=timezone.now())
        .select_related("route", "project")
        .order_by("window_start", "pk")
    )
    return list(qs[:30])


def finished_rounds(user) -> list[Round]:
    qs = (
        Round.objects.visible_to(user)
        .filter(assignee=user, status__in=FINISHED)
        .select_related("route", "project")
        .order_by("-window_start", "-pk")
    )
    return list(qs[:10])


class RoundsView(MobileMixin, generic.TemplateView):
    template_name = "inspections/mobile_rounds.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        teams = my_team_ids(user)
        offered = offered_rounds(user, teams)
        for rnd in offered:
            rnd.claim_url = api_url("claim", rnd.pk)
        ctx.update(
            rounds=open_rounds(user, teams),
            offered=offered,
            finished=finished_rounds(user),
            today=timezone.localdate(),
            strings={"failed": str(_("That did not work. Check the connection and try again."))},
        )
        return ctx


# ---------------------------------------------------------------- one round


def my_round(request, pk) -> Round:
    """A round this engineer does or may do (theirs, their team's, or on offer to them)."""
    round_id = parse_id(pk)
    if round_id is None:
        raise Http404
    user = request.user
    teams = my_team_ids(user)
    may = mine_or_my_team(user, teams) | Q(
        Q(team__isnull=True) | Q(team_id__in=teams), offered=True, assignee__isnull=True
    )
    qs = Round.objects.visible_to(user).filter(may).select_related("route", "project")
    rnd = qs.filter(pk=round_id).first()
    if rnd is None:
        raise Http404
    return rnd


def qr_digest(value: str) -> str:
    """The page compares a scanned code's SHA-256 with these, so the tags' values are not
    listed in the page itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def number_text(value) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def item_data(item: CheckItem) -> dict:
    return {
        "id": item.pk,
        "name": item.name,
        "kind": item.kind,
        "unit": item.unit,
        "min": number_text(item.normal_min),
        "max": number_text(item.normal_max),
        "choices": list(item.choices or []) if item.kind == ItemKind.CHOICE else [],
        "abnormal_choices": list(item.abnormal_choices or []),
        "normal_answer": item.normal_answer,
        "photo_required": item.photo_required,
        "required": item.required,
    }


def round_data(rnd: Round) -> dict:
    """Everything the round screen needs, for ``json_script``."""
    items = CheckItem.objects.filter(is_active=True).order_by("position", "id")
    checkpoints = (
        Checkpoint.objects.filter(route_id=rnd.route_id, is_active=True)
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("position", "id")
    )
    done = {
        v.checkpoint_id: {"status": v.status, "recorded_at": v.recorded_at.isoformat()}
        for v in PointVisit.objects.filter(round=rnd).only("checkpoint_id", "status", "recorded_at")
    }
    return {
        "round": {
            "id": rnd.pk,
            "label": f"{rnd.route.code} {timezone.localtime(rnd.window_start):%m-%d %H:%M}",
            "status": rnd.status,
            "offered": rnd.offered,
            "assigned": rnd.assignee_id is not None,
            "quality_score": number_text(rnd.quality_score),
            "quality_parts": rnd.quality_parts or {},
        },
        "checkpoints": [
            {
                "id": cp.pk,
                "code": cp.code,
                "name": cp.name,
                "location": cp.location,
                "qr": qr_digest(cp.qr_value),
                "items": [item_data(i) for i in cp.items.all()],
                "done": done.get(cp.pk),
            }
            for cp in checkpoints
        ],
        "urls": {
            action: api_url(action, rnd.pk)
            for action in ("detail", "claim", "start", "visits", "skip", "finish")
        },
    }


def screen_strings() -> dict:
    """The script's words, translated here (there is no JavaScript catalogue)."""
    words = {
        "next": pgettext("checkpoint", "Next"),
        "yes": _("Yes"),
        "no": _("No"),
        "normal": _("normal"),
        "out_of_range": _("Out of range"),
        "not_a_number": _("Not a number"),
        "saved": _("Saved: %(code)s"),
        "skipped": _("Skipped: %(code)s"),
        "unknown_code": _("No checkpoint of this route has the code %(code)s."),
        "already_done": _("%(code)s is already done on this round."),
        "offline": _("No connection: nothing was saved. Tap Save again when you are back online."),
        "failed": _("That did not work. Check the connection and try again."),
        "camera_failed": _("The camera cannot be used here: type the code instead."),
        "finish_confirm": _("%(n)s checkpoints are not done. Tap Finish again to finish anyway."),
        "finished": _("Round finished."),
        "all_done": _("All checkpoints done: finish the round."),
        "pick_reason": _("Choose a reason."),
        "photo_taken": _("Photo ready"),
        "saved_offline": _("Saved on this phone: %(code)s. It is sent when the signal is back."),
        "skipped_offline": _("Skip saved on this phone: %(code)s."),
        "finished_offline": _("Round finished on this phone: the score comes when it syncs."),
        "claim_offline": _(
            "Claiming a round needs a connection: try again when you have a signal."
        ),
        "waiting": _("Waiting to sync"),
        "kind_start_round": _("Start round"),
        "kind_record_visit": _("Checkpoint"),
        "kind_skip_point": _("Skip checkpoint"),
        "kind_finish_round": _("Finish round"),
    }
    words.update({f"part_{key}": label for key, label in QUALITY_PARTS.items()})
    return {key: str(value) for key, value in words.items()}


class RoundScreenView(MobileMixin, generic.TemplateView):
    template_name = "inspections/mobile_round.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rnd = my_round(self.request, self.kwargs["pk"])
        data = round_data(rnd)
        ctx.update(
            round=rnd,
            data=data,
            total=len(data["checkpoints"]),
            done_count=sum(1 for cp in data["checkpoints"] if cp["done"]),
            strings=screen_strings(),
            skip_reasons=SkipReason.choices,
            detail_url=rnd.get_absolute_url(),
        )
        return ctx


urlpatterns = [
    path("m/", RoundsView.as_view(), name="mobile-rounds"),
    path("m/rounds/<str:pk>/", RoundScreenView.as_view(), name="mobile-round"),
]
