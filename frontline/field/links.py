"""Public links that need no login: the customer's timeline with ETA, and the survey.

Tokens are 256-bit random strings shown once (in the email); only their SHA-256 is
stored, with an expiry and a revocation time. An unknown, expired or revoked token is
a 404, like any record one may not see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User
from frontline.accounts.roles import Role
from frontline.core.errors import Conflict, NotFound, ValidationFailed
from frontline.field import access
from frontline.field.events import record
from frontline.field.models import PublicLink, Survey, WorkOrder
from frontline.field.states import EventKind, WorkOrderStatus
from frontline.notifications.direct import queue_email

TIMELINE_DAYS = 30
SURVEY_DAYS = 14


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(work_order, purpose: str, *, days: int) -> str:
    """A new link; returns the raw token (shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    PublicLink.objects.create(
        work_order=work_order,
        purpose=purpose,
        token_hash=_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    return token


def resolve(token, purpose: str) -> PublicLink:
    """The live link for a token, or NotFound (unknown, expired, revoked, wrong purpose)."""
    token = str(token or "")
    if not 20 <= len(token) <= 100:
        raise NotFound()
    link = (
        PublicLink.objects.select_related("work_order")
        .filter(token_hash=_hash(token), purpose=purpose, revoked_at__isnull=True)
        .first()
    )
    if link is None or link.expires_at <= timezone.now():
        raise NotFound()
    return link


def revoke(*, actor, work_order, purpose=None) -> int:
    access.require(access.may_dispatch(actor))
    links = PublicLink.objects.filter(work_order=work_order, revoked_at__isnull=True)
    if purpose:
        links = links.filter(purpose=purpose)
    return links.update(revoked_at=timezone.now())


def customer_contacts(work_order) -> list[User]:
    """Who hears about the visit: the ticket's contact, else the customer's admins."""
    ticket = work_order.ticket
    if ticket is not None and ticket.contact_id and ticket.contact.is_active:
        return [ticket.contact]
    return list(
        User.objects.filter(
            is_active=True,
            membership__organization_id=work_order.customer_id,
            membership__role=Role.CUSTOMER_ADMIN,
        )[:5]
    )


def _email(work_order, person, subject, intro: str, path: str, key: str) -> None:
    with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
        body = "\n\n".join(
            [
                _g("Hello %(name)s,") % {"name": person.display_name or person.email},
                str(intro),
                f"{settings.SITE_URL}{path}",
                _g("This link is personal; it expires on its own."),
            ]
        )
        queue_email(
            to=person.email, subject=str(subject), body=body, dedupe_key=f"{key}:{person.pk}"
        )


def send_timeline_link(*, actor, work_order) -> str:
    """Email the customer a link to follow the visit (status, engineer, ETA)."""
    access.require(access.may_dispatch(actor))
    with transaction.atomic():
        token = issue(work_order, PublicLink.Purpose.TIMELINE, days=TIMELINE_DAYS)
        path = reverse("field:public-timeline", args=[token])
        for person in customer_contacts(work_order):
            _email(work_order, person,
                   _("Follow your service visit %(n)s") % {"n": work_order.number},
                   _("You can follow the visit, and see when the engineer arrives, here:"),
                   path, f"wo-timeline:{work_order.pk}:{token[:8]}")  # fmt: skip
        record(work_order, EventKind.NOTE, author=actor, data={"timeline_link_sent": True})
    return token


def send_survey(work_order) -> str | None:
    """Called when an order closes: a survey link to the customer (once per order)."""
    if Survey.objects.filter(work_order=work_order).exists():
        return None
    token = issue(work_order, PublicLink.Purpose.SURVEY, days=SURVEY_DAYS)
    path = reverse("field:public-survey", args=[token])
    for person in customer_contacts(work_order):
        _email(work_order, person,
               _("How did we do? Visit %(n)s") % {"n": work_order.number},
               _("Two questions about our visit, a minute of your time:"),
               path, f"wo-survey:{work_order.pk}")  # fmt: skip
    return token


def _score(value, low: int, high: int, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise ValidationFailed(
            fields={
                field: [_("Choose a number from %(low)d to %(high)d.") % {"low": low, "high": high}]
            }
        )
    return number


def submit_survey(*, token, csat, nps, comment="") -> Survey:
    """Answer a survey once; the link stops working after the answer."""
    link = resolve(token, PublicLink.Purpose.SURVEY)
    csat = _score(csat, 1, 5, "csat")
    nps = _score(nps, 0, 10, "nps")
    comment = str(comment or "").strip()
    if len(comment) > 2000:
        raise ValidationFailed(fields={"comment": [_("At most %(n)d characters.") % {"n": 2000}]})
    wo: WorkOrder = link.work_order
    if wo.status != WorkOrderStatus.CLOSED:
        raise NotFound()
    with transaction.atomic():
        try:
            with transaction.atomic():
                survey = Survey.objects.create(
                    work_order=wo, engineer_id=wo.assignee_id, csat=csat, nps=nps, comment=comment
                )
        except IntegrityError:
            raise Conflict(_("This survey was already answered. Thank you!"), code="answered")
        PublicLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
        record(wo, EventKind.SURVEY, data={"csat": csat, "nps": nps})
    return survey
