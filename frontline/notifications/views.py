"""The inbox: one's own notifications, the unread badge, and marking read.

Everything is scoped to the signed-in user: another person's notification is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django.views.decorators.http import require_GET, require_POST

from frontline.core.errors import NotFound
from frontline.core.pages import is_htmx
from frontline.notifications import services
from frontline.notifications.models import Notification


class InboxView(LoginRequiredMixin, generic.ListView):
    """The user's notifications, newest first; ``?show=unread`` lists only the unread ones."""

    template_name = "notifications/inbox.html"
    partial_template_name = "notifications/partials/inbox_list.html"
    paginate_by = 25
    context_object_name = "notifications"

    def get_queryset(self):
        self.only_unread = self.request.GET.get("show") == "unread"
        qs = Notification.objects.visible_to(self.request.user)
        if self.only_unread:
            qs = qs.unread()
        return qs.order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["only_unread"] = self.only_unread
        ctx["querystring"] = "show=unread" if self.only_unread else ""
        return ctx

    def get_template_names(self):
        if is_htmx(self.request) and self.request.headers.get("HX-History-Restore-Request") != (
            "true"
        ):
            return [self.partial_template_name]
        return [self.template_name]


@require_GET
@login_required
def unread_badge(request):
    """The bell's badge alone; the header polls it every 30 seconds."""
    return render(request, "notifications/partials/unread_badge.html")


def _back_to_inbox(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("notifications:inbox"))


@require_POST
@login_required
def mark_read(request, pk):
    """Mark one notification read; with ``open`` set, go on to what it links to."""
    try:
        note = services.mark_read(user=request.user, notification_id=pk)
    except NotFound:
        raise Http404
    if request.POST.get("open") and note.url:
        return HttpResponseRedirect(services.safe_path(note.url) or reverse("notifications:inbox"))
    return _back_to_inbox(request)


@require_POST
@login_required
def mark_unread(request, pk):
    try:
        services.mark_unread(user=request.user, notification_id=pk)
    except NotFound:
        raise Http404
    return _back_to_inbox(request)


@require_POST
@login_required
def mark_all_read(request):
    count = services.mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked read."))
    return _back_to_inbox(request)
