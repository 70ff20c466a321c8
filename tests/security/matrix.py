"""The security matrix's expectations: every URL of the project, what each actor gets.

One entry per URL name (``namespace:name``; see ``routes.py`` for the few left out and
why). An entry says

* ``get``: the status of a GET of the side-``a`` object (customer A's, sent to the partner
  outlet) for each actor, as one row of statuses in ``ACTORS`` order, or a named profile;
* ``get_b``: the same for the side-``b`` object (customer B's) where it differs;
* ``writers``: who may write (POST/PUT/PATCH/DELETE, each method the route answers):
  everybody else must be refused (401/403/404/405, or a redirect to the login page for
  the anonymous) and nothing may change. One string for every method, or one per method.

Reading a row::

    anon cau caa cba  pe  pa eng agt dsp mgr adm  qa sup out
     302 404 404 404 404 404 200 200 200 200 200 200 404 404   (STAFF_PAGE)

anon = anonymous, cau/caa = customer A's user/admin, cba = customer B's admin, pe/pa =
the partner outlet's engineer/admin, eng/agt/dsp/mgr/adm/qa = the operator's engineer,
agent, dispatcher, manager, administrator and quality analyst, sup = a supplier's contact,
out = a signed-in user of no organisation. A new URL without an entry fails
``test_every_url_has_an_entry``; to add one, decide who may see and change it, write the
row, and run the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTORS = (
    "anonymous",
    "customer_a_user",
    "customer_a_admin",
    "customer_b_admin",
    "partner_engineer",
    "partner_admin",
    "engineer",
    "agent",
    "dispatcher",
    "manager",
    "admin",
    "analyst",
    "supplier_contact",
    "outsider",
)
SHORT = dict(
    zip(
        (
            "anon",
            "cau",
            "caa",
            "cba",
            "pe",
            "pa",
            "eng",
            "agt",
            "dsp",
            "mgr",
            "adm",
            "qa",
            "sup",
            "out",
        ),
        ACTORS,
        strict=True,
    )
)

# Profiles: the rows many URLs share.                       anon cau caa cba  pe  pa eng agt dsp mgr adm  qa sup out
PUBLIC = "200 200 200 200 200 200 200 200 200 200 200 200 200 200"
NOBODY = "404 404 404 404 404 404 404 404 404 404 404 404 404 404"
NO_GET = "405 405 405 405 405 405 405 405 405 405 405 405 405 405"
PAGE_SIGNED_IN = "302 200 200 200 200 200 200 200 200 200 200 200 200 200"
API_SIGNED_IN = "401 200 200 200 200 200 200 200 200 200 200 200 200 200"  # lists: scoped rows
STAFF_PAGE = "302 404 404 404 404 404 200 200 200 200 200 200 404 404"
STAFF_API = "401 404 404 404 404 404 200 200 200 200 200 200 404 404"
LEADS_PAGE = "302 404 404 404 404 404 403 403 403 200 200 403 404 404"  # managers, admins
ADMIN_PAGE = "302 404 404 404 404 404 403 403 403 403 200 403 404 404"
PAGE_CUSTOMER_A = "302 200 200 404 404 404 200 200 200 200 200 200 404 404"
PAGE_CUSTOMER_B = "302 404 404 200 404 404 200 200 200 200 200 200 404 404"
API_CUSTOMER_A = "401 200 200 404 404 404 200 200 200 200 200 200 404 404"
API_CUSTOMER_B = "401 404 404 200 404 404 200 200 200 200 200 200 404 404"
PAGE_CUSTOMER_A_AND_OUTLET = "302 200 200 404 200 200 200 200 200 200 200 200 404 404"
API_CUSTOMER_A_AND_OUTLET = "401 200 200 404 200 200 200 200 200 200 200 200 404 404"
LEADS_PAGE_CUSTOMER_A = "302 403 403 404 404 404 403 403 403 200 200 403 404 404"
LEADS_PAGE_CUSTOMER_B = "302 404 404 403 404 404 403 403 403 200 200 403 404 404"
# Editing a customer's site (dispatchers and up) or asset (engineers too): others 403
# where they see the record, 404 where they do not.
SITE_EDIT_CUSTOMER_A = "302 403 403 404 404 404 403 403 200 200 200 403 404 404"
SITE_EDIT_CUSTOMER_B = "302 404 404 403 404 404 403 403 200 200 200 403 404 404"
ASSET_EDIT_CUSTOMER_A = "302 403 403 404 404 404 200 403 200 200 200 403 404 404"
ASSET_EDIT_CUSTOMER_B = "302 404 404 403 404 404 200 403 200 200 200 403 404 404"

# Writers, by group.
EVERYONE = "anon cau caa cba pe pa eng agt dsp mgr adm qa sup out"
SIGNED_IN = "cau caa cba pe pa eng agt dsp mgr adm qa sup out"
STAFF = "eng agt dsp mgr adm qa"


@dataclass(frozen=True)
class E:
    get: str | None = None
    get_b: str | None = None
    writers: str | dict[str, str] = ""

    def get_row(self, side: str) -> dict[str, int]:
        row = (self.get_b if side == "b" and self.get_b else self.get) or ""
        return dict(zip(ACTORS, (int(s) for s in row.split()), strict=True))

    def writers_of(self, method: str) -> set[str]:
        spec = self.writers if isinstance(self.writers, str) else self.writers.get(method, "")
        return {SHORT[s] for s in spec.split()}


MATRIX: dict[str, E] = {
    "accounts:profile": E(get=PAGE_SIGNED_IN, writers=SIGNED_IN),
    "accounts:team-create": E(
        get="302 403 403 403 403 200 403 403 403 200 200 403 403 403", writers="pa mgr adm"
    ),
    "accounts:team-delete": E(
        get="302 404 404 404 403 200 403 403 403 200 200 403 404 404",
        get_b=LEADS_PAGE,
        writers="pa mgr adm",
    ),
    "accounts:team-detail": E(
        get="302 404 404 404 200 200 200 200 200 200 200 200 404 404", get_b=STAFF_PAGE
    ),
    "accounts:team-edit": E(
        get="302 404 404 404 403 200 403 403 403 200 200 403 404 404",
        get_b=LEADS_PAGE,
        writers="pa mgr adm",
    ),
    "accounts:team-list": E(get=PAGE_SIGNED_IN),
    "accounts:token-list": E(
        get="302 200 200 200 200 200 200 200 200 200 200 200 200 403",
        writers="cau caa cba pe pa eng agt dsp mgr adm qa sup",
    ),
    "accounts:token-revoke": E(get=NO_GET, writers="cau"),
    "api-v1:anomaly-confirm": E(writers="dsp mgr adm qa"),
    "api-v1:anomaly-detail": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B, writers=""),
    "api-v1:anomaly-dismiss": E(writers=STAFF),
    "api-v1:anomaly-follow-up": E(writers="eng dsp mgr adm qa"),
    "api-v1:anomaly-handle": E(writers=STAFF),
    "api-v1:anomaly-list": E(get=API_SIGNED_IN, writers="eng dsp mgr adm qa"),
    "api-v1:asset-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "eng dsp mgr adm", "delete": "eng dsp mgr adm"},
    ),
    "api-v1:asset-list": E(get=API_SIGNED_IN, writers="eng dsp mgr adm"),
    "api-v1:asset-model-detail": E(
        get=API_SIGNED_IN, writers={"put": "", "patch": "mgr adm", "delete": "mgr adm"}
    ),
    "api-v1:asset-model-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:attachment-detail": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B),
    "api-v1:attachment-download": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B),
    "api-v1:business-calendar-detail": E(
        get=STAFF_API, writers={"put": "", "patch": "adm", "delete": "adm"}
    ),
    "api-v1:business-calendar-list": E(get=API_SIGNED_IN, writers="adm"),
    "api-v1:daily-issues-report": E(get="401 404 404 404 404 404 403 403 403 200 200 200 404 404"),
    "api-v1:dispatch-rule-detail": E(
        get=STAFF_API, writers={"put": "", "patch": "mgr adm", "delete": "mgr adm"}
    ),
    "api-v1:dispatch-rule-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:dispatch-rule-move": E(writers="mgr adm"),
    "api-v1:dispatch-rule-preview": E(writers=STAFF),
    "api-v1:dispatch-rule-reorder": E(writers="mgr adm"),
    "api-v1:engineer-detail": E(
        get="401 404 404 404 200 200 200 200 200 200 200 200 404 404", get_b=STAFF_API
    ),
    "api-v1:engineer-list": E(get=API_SIGNED_IN),
    "api-v1:engineer-me": E(get="401 404 404 404 200 404 200 404 404 404 404 404 404 404"),
    "api-v1:engineer-me-position": E(writers=SIGNED_IN),
    "api-v1:field-report": E(get="401 403 403 403 403 403 403 403 200 200 200 200 403 403"),
    "api-v1:fire-feed": E(get=STAFF_API),
    "api-v1:inspections-analysis": E(get="401 200 200 200 403 403 200 200 200 200 200 200 403 403"),
    "api-v1:inspections-quality-trend": E(
        get="401 400 400 400 403 403 400 400 400 400 400 400 403 403"
    ),
    "api-v1:leaderboard": E(get="401 403 403 403 200 200 200 200 200 200 200 200 403 403"),
    "api-v1:me": E(get=API_SIGNED_IN),
    "api-v1:membership-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "caa adm", "delete": "adm"},
    ),
    "api-v1:membership-list": E(get=API_SIGNED_IN, writers="caa cba pa adm"),
    "api-v1:notification-detail": E(
        get="401 200 404 404 404 404 404 404 404 404 404 404 404 404",
        get_b="401 404 404 200 404 404 404 404 404 404 404 404 404 404",
    ),
    "api-v1:notification-list": E(get=API_SIGNED_IN),
    "api-v1:notification-read": E(writers="cau"),
    "api-v1:notification-read-all": E(writers=SIGNED_IN),
    "api-v1:notification-unread": E(writers="cau"),
    "api-v1:offer-claim": E(writers="eng"),
    "api-v1:offer-list": E(get=API_SIGNED_IN),
    "api-v1:organization-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "adm", "delete": "adm"},
    ),
    "api-v1:organization-list": E(get=API_SIGNED_IN, writers="adm"),
    "api-v1:plan-apply": E(writers="dsp mgr adm"),
    "api-v1:plan-detail": E(get=STAFF_API, writers=""),
    "api-v1:plan-list": E(get=API_SIGNED_IN, writers="dsp mgr adm"),
    "api-v1:point-balance": E(get="401 403 403 403 200 200 200 200 200 200 200 200 403 403"),
    "api-v1:point-correct": E(writers="mgr adm"),
    "api-v1:point-detail": E(
        get="401 403 403 403 200 404 404 404 404 200 200 404 403 403",
        get_b="401 403 403 403 404 404 200 404 404 200 200 404 403 403",
        writers="",
    ),
    "api-v1:point-list": E(
        get="401 403 403 403 200 200 200 200 200 200 200 200 403 403", writers=""
    ),
    "api-v1:point-rule-detail": E(
        get="401 403 403 403 404 404 200 200 200 200 200 200 403 403",
        writers={"put": "", "patch": "mgr adm", "delete": ""},
    ),
    "api-v1:point-rule-list": E(
        get="401 403 403 403 200 200 200 200 200 200 200 200 403 403", writers="mgr adm"
    ),
    "api-v1:problem-detail": E(
        get=STAFF_API, writers={"put": "", "patch": "agt mgr adm", "delete": ""}
    ),
    "api-v1:problem-link": E(writers="agt mgr adm"),
    "api-v1:problem-list": E(get=STAFF_API, writers="agt mgr adm"),
    "api-v1:problem-resolve": E(writers="agt mgr adm"),
    "api-v1:problem-transition": E(writers="agt mgr adm"),
    "api-v1:problem-unlink": E(writers="agt mgr adm"),
    "api-v1:project-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "mgr adm", "delete": "mgr adm"},
    ),
    "api-v1:project-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:public-survey": E(writers=EVERYONE),
    "api-v1:public-timeline": E(get=PUBLIC),
    "api-v1:quality-scheme-detail": E(
        get=STAFF_API, writers={"put": "", "patch": "mgr adm", "delete": ""}
    ),
    "api-v1:quality-scheme-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:redemption-approve": E(writers="mgr adm"),
    "api-v1:redemption-detail": E(
        get="401 403 403 403 200 404 404 404 404 200 200 404 403 403",
        get_b="401 403 403 403 404 404 200 404 404 200 200 404 403 403",
        writers="",
    ),
    "api-v1:redemption-export": E(get="401 403 403 403 403 403 403 403 403 200 200 403 403 403"),
    "api-v1:redemption-list": E(
        get="401 403 403 403 200 200 200 200 200 200 200 200 403 403",
        writers="pe pa eng agt dsp mgr adm qa",
    ),
    "api-v1:redemption-paid": E(writers="mgr adm"),
    "api-v1:redemption-reject": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:retrospective-action-complete": E(writers="eng agt dsp mgr adm"),
    "api-v1:round-adjust-score": E(writers=STAFF),
    "api-v1:round-cancel": E(writers=STAFF),
    "api-v1:round-claim": E(writers="eng"),
    "api-v1:round-detail": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B, writers=""),
    "api-v1:round-finish": E(writers="eng"),
    "api-v1:round-list": E(get=API_SIGNED_IN, writers="dsp mgr adm"),
    "api-v1:round-skip": E(writers=STAFF),
    "api-v1:round-start": E(writers="eng"),
    "api-v1:round-visits": E(writers=STAFF),
    "api-v1:route-checkpoint": E(writers="mgr adm"),
    "api-v1:route-checkpoint-item": E(writers="mgr adm"),
    "api-v1:route-checkpoint-items": E(writers="mgr adm"),
    "api-v1:route-checkpoint-move": E(writers="mgr adm"),
    "api-v1:route-checkpoint-qr": E(
        get="401 403 403 404 404 404 200 200 200 200 200 200 404 404",
        get_b="401 404 404 403 404 404 200 200 200 200 200 200 404 404",
    ),
    "api-v1:route-checkpoints": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B, writers="mgr adm"),
    "api-v1:route-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "mgr adm", "delete": ""},
    ),
    "api-v1:route-import": E(writers="mgr adm"),
    "api-v1:route-import-template": E(
        get="401 403 403 403 403 403 403 403 403 200 200 403 403 403"
    ),
    "api-v1:route-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:route-qr-sheet": E(
        get="401 403 403 404 404 404 200 200 200 200 200 200 404 404",
        get_b="401 404 404 403 404 404 200 200 200 200 200 200 404 404",
    ),
    "api-v1:schedule-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "mgr adm", "delete": ""},
    ),
    "api-v1:schedule-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:severity-level-detail": E(
        get=API_SIGNED_IN, writers={"put": "", "patch": "adm", "delete": ""}
    ),
    "api-v1:severity-level-list": E(get=API_SIGNED_IN, writers=""),
    "api-v1:site-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "dsp mgr adm", "delete": "dsp mgr adm"},
    ),
    "api-v1:site-list": E(get=API_SIGNED_IN, writers="dsp mgr adm"),
    "api-v1:sla-policy-detail": E(
        get=STAFF_API, writers={"put": "", "patch": "adm", "delete": "adm"}
    ),
    "api-v1:sla-policy-list": E(get=API_SIGNED_IN, writers="adm"),
    "api-v1:sop-detail": E(get=STAFF_API, writers={"put": "", "patch": "mgr adm", "delete": ""}),
    "api-v1:sop-list": E(get=API_SIGNED_IN, writers="mgr adm"),
    "api-v1:sop-versions": E(get=STAFF_API, writers="mgr adm"),
    "api-v1:survey-detail": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B),
    "api-v1:survey-list": E(get=API_SIGNED_IN),
    "api-v1:sync-upload": E(
        get="401 403 403 403 404 404 404 403 403 403 403 403 403 403", writers="pe pa eng"
    ),
    "api-v1:sync-uploads": E(writers="pe pa eng"),
    "api-v1:sync": E(writers="pe pa eng"),
    "api-v1:team-detail": E(
        get="401 404 404 404 200 200 200 200 200 200 200 200 404 404",
        get_b=STAFF_API,
        writers={"put": "", "patch": "pa mgr adm", "delete": "pa mgr adm"},
    ),
    "api-v1:team-list": E(get=API_SIGNED_IN, writers="pa mgr adm"),
    "api-v1:ticket-accept-hand-off": E(writers=""),
    "api-v1:ticket-attachments": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-brief": E(writers=STAFF),
    "api-v1:ticket-call-fire": E(writers=STAFF),
    "api-v1:ticket-cancel-hand-off": E(writers=""),
    "api-v1:ticket-confirm": E(writers="cau caa"),
    "api-v1:ticket-decline-hand-off": E(writers=""),
    "api-v1:ticket-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "eng agt dsp mgr adm", "delete": ""},
    ),
    "api-v1:ticket-events": E(get=API_CUSTOMER_A, get_b=API_CUSTOMER_B),
    "api-v1:ticket-hand-off": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-join": E(writers=""),
    "api-v1:ticket-list": E(get=API_SIGNED_IN, writers="cau caa cba eng agt dsp mgr adm"),
    "api-v1:ticket-note": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-rate": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-reassign": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-reopen": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-reply": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-retrospective": E(get=STAFF_API, writers=STAFF),
    "api-v1:ticket-take": E(writers="eng agt dsp mgr adm"),
    "api-v1:ticket-transition": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:ticket-watch": E(writers="cau caa eng agt dsp mgr adm qa"),
    "api-v1:token-detail": E(
        get="401 200 404 404 404 404 404 404 404 404 404 404 404 404",
        get_b="401 404 404 200 404 404 404 404 404 404 404 404 404 404",
        writers="",
    ),
    "api-v1:token-list": E(
        get=API_SIGNED_IN, writers="cau caa cba pe pa eng agt dsp mgr adm qa sup"
    ),
    "api-v1:token-revoke": E(writers="cau"),
    "api-v1:user-deactivate": E(writers="caa adm"),
    "api-v1:user-detail": E(
        get=API_CUSTOMER_A,
        get_b=API_CUSTOMER_B,
        writers={"put": "", "patch": "caa adm", "delete": ""},
    ),
    "api-v1:user-list": E(get=API_SIGNED_IN, writers="caa cba pa adm"),
    "api-v1:work-order-accept": E(writers=""),
    "api-v1:work-order-appointment": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-cancel": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-check-in": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-checklist": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-claim": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-close": E(writers="pa dsp mgr adm"),
    "api-v1:work-order-complete": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-detail": E(get=API_CUSTOMER_A_AND_OUTLET, get_b=API_CUSTOMER_B, writers=""),
    "api-v1:work-order-dispatch": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-events": E(get=API_CUSTOMER_A_AND_OUTLET, get_b=API_CUSTOMER_B),
    "api-v1:work-order-hold": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-list": E(get=API_SIGNED_IN, writers="eng agt dsp mgr adm"),
    "api-v1:work-order-note": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-offer": E(writers="pa dsp mgr adm"),
    "api-v1:work-order-photo-detail": E(get=API_CUSTOMER_A_AND_OUTLET, get_b=API_CUSTOMER_B),
    "api-v1:work-order-photo-download": E(get=API_CUSTOMER_A_AND_OUTLET, get_b=API_CUSTOMER_B),
    "api-v1:work-order-photos": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-reject": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-resume": E(writers="pa dsp mgr adm"),
    "api-v1:work-order-send-to-partner": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-sign": E(writers="pe pa eng agt dsp mgr adm qa"),
    "api-v1:work-order-start-travel": E(writers=""),
    "api-v1:work-order-timeline-link": E(writers="dsp mgr adm"),
    "api-v1:work-order-withdraw-offer": E(writers="pa dsp mgr adm"),
    "desk:daily-report": E(get="302 404 404 404 404 404 403 403 403 200 200 200 404 404"),
    "desk:daily-report-xlsx": E(get="302 404 404 404 404 404 403 403 403 200 200 200 404 404"),
    "desk:fire-feed": E(get=STAFF_PAGE),
    "desk:fire-feed-partial": E(get=STAFF_PAGE),
    "desk:fire-join": E(writers=""),
    "desk:portal-confirm": E(writers="cau caa eng agt dsp mgr adm qa"),
    "desk:portal-rate": E(writers="cau caa eng agt dsp mgr adm qa"),
    "desk:portal-reopen": E(writers="cau caa eng agt dsp mgr adm qa"),
    "desk:portal-reply": E(writers="cau caa eng agt dsp mgr adm qa"),
    "desk:portal-ticket-create": E(
        get="302 200 200 200 404 404 302 302 302 302 302 302 404 404",
        writers="cau caa cba eng agt dsp mgr adm qa",
    ),
    "desk:portal-ticket-detail": E(
        get="302 200 200 404 404 404 302 302 302 302 302 302 404 404",
        get_b="302 404 404 200 404 404 302 302 302 302 302 302 404 404",
    ),
    "desk:portal-ticket-list": E(get="302 200 200 200 404 404 302 302 302 302 302 302 404 404"),
    "desk:problem-create": E(
        get="302 404 404 404 404 404 403 200 403 200 200 403 404 404", writers="agt mgr adm"
    ),
    "desk:problem-detail": E(get=STAFF_PAGE),
    "desk:problem-edit": E(
        get="302 404 404 404 404 404 403 200 403 200 200 403 404 404", writers="agt mgr adm"
    ),
    "desk:problem-link": E(writers="agt mgr adm"),
    "desk:problem-list": E(get=STAFF_PAGE),
    "desk:problem-resolve": E(writers="agt mgr adm"),
    "desk:problem-transition": E(writers="agt mgr adm"),
    "desk:problem-unlink": E(writers="agt mgr adm"),
    "desk:retrospective-action-done": E(writers="eng agt dsp mgr adm"),
    "desk:retrospective-edit": E(
        get="302 404 404 404 404 404 200 200 200 200 200 403 404 404", writers="eng agt dsp mgr adm"
    ),
    "desk:severity-level-edit": E(get=ADMIN_PAGE, writers="adm"),
    "desk:severity-level-list": E(get=STAFF_PAGE),
    "desk:sla-calendar-create": E(get=ADMIN_PAGE, writers="adm"),
    "desk:sla-calendar-edit": E(get=ADMIN_PAGE, writers="adm"),
    "desk:sla-calendar-list": E(get=STAFF_PAGE),
    "desk:sla-policy-create": E(get=ADMIN_PAGE, writers="adm"),
    "desk:sla-policy-edit": E(get=ADMIN_PAGE, writers="adm"),
    "desk:sla-policy-list": E(get=STAFF_PAGE),
    "desk:sla-ticket-timeline": E(
        get="404 404 404 404 404 404 200 200 200 200 200 200 404 404", writers=STAFF
    ),
    "desk:ticket-accept-hand-off": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-brief": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-call-fire": E(writers=STAFF),
    "desk:ticket-cancel-hand-off": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-create": E(
        get="302 404 404 404 404 404 200 200 200 200 200 403 404 404", writers="eng agt dsp mgr adm"
    ),
    "desk:ticket-decline-hand-off": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-detail": E(get=STAFF_PAGE),
    "desk:ticket-hand-off": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-join-fire": E(writers=STAFF),
    "desk:ticket-list": E(get=STAFF_PAGE),
    "desk:ticket-note": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-reassign": E(writers="dsp mgr adm"),
    "desk:ticket-reply": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-take": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-transition": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-update": E(writers="eng agt dsp mgr adm"),
    "desk:ticket-watch": E(writers=STAFF),
    "dispatch:plan-apply": E(writers="dsp mgr adm"),
    "dispatch:plan-create": E(
        get="302 404 404 404 404 404 403 403 200 200 200 403 404 404", writers="dsp mgr adm"
    ),
    "dispatch:plan-detail": E(get=STAFF_PAGE),
    "dispatch:plan-list": E(get=STAFF_PAGE),
    "dispatch:plan-progress": E(get=STAFF_PAGE),
    "field:board": E(get="302 404 404 404 404 404 403 403 200 200 200 403 404 404"),
    "field:board-dispatch": E(writers="dsp mgr adm"),
    "field:board-offer": E(writers="dsp mgr adm"),
    "field:board-route": E(writers="dsp mgr adm"),
    "field:board-suggestions": E(get="302 404 404 404 404 404 403 403 302 302 302 403 404 404"),
    "field:engineer-certification": E(writers="dsp mgr adm"),
    "field:engineer-certification-remove": E(writers=""),
    "field:engineer-create": E(
        get="302 404 404 404 404 403 403 403 200 200 200 403 404 404", writers="dsp mgr adm"
    ),
    "field:engineer-detail": E(
        get="302 404 404 404 200 200 200 200 200 200 200 200 404 404", get_b=STAFF_PAGE
    ),
    "field:engineer-edit": E(writers="dsp mgr adm"),
    "field:engineer-leave": E(writers="dsp mgr adm"),
    "field:engineer-leave-cancel": E(writers=""),
    "field:engineer-list": E(get="302 404 404 404 404 200 200 200 200 200 200 200 404 404"),
    "field:engineer-shift": E(writers="dsp mgr adm"),
    "field:engineer-shift-clear": E(writers=""),
    "field:engineer-skill": E(writers="dsp mgr adm"),
    "field:mobile-accept": E(writers=""),
    "field:mobile-check-in": E(writers=""),
    "field:mobile-checklist": E(writers=""),
    "field:mobile-claim": E(writers="pe pa eng"),
    "field:mobile-complete": E(writers=""),
    "field:mobile-hold": E(writers=""),
    "field:mobile-job": E(get="302 404 404 404 404 404 404 404 404 404 404 404 404 404"),
    "field:mobile-offers": E(get="302 404 404 404 200 200 200 404 404 404 404 404 404 404"),
    "field:mobile-photo": E(writers=""),
    "field:mobile-reject": E(writers=""),
    "field:mobile-sign": E(writers=""),
    "field:mobile-today": E(get="302 404 404 404 200 200 200 404 404 404 404 404 404 404"),
    "field:mobile-travel": E(writers=""),
    "field:photo-download": E(get=PAGE_CUSTOMER_A_AND_OUTLET, get_b=PAGE_CUSTOMER_B),
    "field:portal-work-order-detail": E(
        get="302 200 200 404 404 404 302 302 302 302 302 302 404 404",
        get_b="302 404 404 200 404 404 302 302 302 302 302 302 404 404",
    ),
    "field:portal-work-order-list": E(
        get="302 200 200 200 404 404 302 302 302 302 302 302 404 404"
    ),
    "field:public-survey": E(get=NOBODY, writers=""),
    "field:public-survey-thanks": E(get=PUBLIC),
    "field:public-timeline": E(get=PUBLIC),
    "field:report": E(get="302 403 403 403 403 403 403 403 200 200 200 200 403 403"),
    "field:report-xlsx": E(get="302 403 403 403 403 403 403 403 200 200 200 200 403 403"),
    "field:rule-create": E(get=LEADS_PAGE, writers="mgr adm"),
    "field:rule-delete": E(get=LEADS_PAGE, writers="mgr adm"),
    "field:rule-edit": E(get=LEADS_PAGE, writers="mgr adm"),
    "field:rule-list": E(get=STAFF_PAGE),
    "field:rule-move": E(writers="mgr adm"),
    "field:rule-preview": E(get=STAFF_PAGE),
    "field:signature-download": E(get=PAGE_CUSTOMER_A_AND_OUTLET, get_b=PAGE_CUSTOMER_B),
    "field:work-order-accept": E(writers=""),
    "field:work-order-appointment": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-cancel": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-check-in": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-close": E(writers="pa dsp mgr adm"),
    "field:work-order-complete": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-create": E(
        get="302 403 403 403 403 403 403 403 200 200 200 403 404 404", writers="dsp mgr adm"
    ),
    "field:work-order-detail": E(get=PAGE_CUSTOMER_A_AND_OUTLET, get_b=PAGE_CUSTOMER_B),
    "field:work-order-dispatch": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-hold": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-list": E(get="302 200 200 200 200 200 200 200 200 200 200 200 404 404"),
    "field:work-order-note": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-offer": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-reject": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-resume": E(writers="pa dsp mgr adm"),
    "field:work-order-send-to-partner": E(writers="cau caa pe pa eng agt dsp mgr adm qa"),
    "field:work-order-start-travel": E(writers=""),
    "field:work-order-timeline-link": E(writers="dsp mgr adm"),
    "field:work-order-withdraw-offer": E(writers="pa dsp mgr adm"),
    "home": E(get=PAGE_SIGNED_IN, writers=SIGNED_IN),
    "incentives:leaderboard": E(get="302 404 404 404 200 200 200 200 200 200 200 200 404 404"),
    "incentives:my-points": E(
        get="302 404 404 404 200 200 200 200 200 200 200 200 404 404",
        writers="pe pa eng agt dsp mgr adm qa",
    ),
    "incentives:redemption-decide": E(writers="mgr adm"),
    "incentives:redemption-export": E(
        get="302 404 404 404 403 403 403 403 403 200 200 403 404 404"
    ),
    "incentives:redemption-list": E(get="302 404 404 404 403 403 403 403 403 200 200 403 404 404"),
    "incentives:rule-create": E(get=LEADS_PAGE, writers="mgr adm"),
    "incentives:rule-edit": E(get=LEADS_PAGE, writers="mgr adm"),
    "incentives:rule-list": E(get=STAFF_PAGE),
    "incentives:settings": E(get=LEADS_PAGE, writers="mgr adm"),
    "inspections:analysis": E(get="302 200 200 200 403 403 200 200 200 200 200 200 403 403"),
    "inspections:analysis-export": E(get="302 200 200 200 403 403 200 200 200 200 200 200 403 403"),
    "inspections:analysis-round": E(
        get="302 200 200 404 403 403 200 200 200 200 200 200 403 403",
        get_b="302 404 404 200 403 403 200 200 200 200 200 200 403 403",
    ),
    "inspections:analysis-route": E(
        get="302 200 200 404 403 403 200 200 200 200 200 200 403 403",
        get_b="302 404 404 200 403 403 200 200 200 200 200 200 403 403",
    ),
    "inspections:anomaly-confirm": E(writers="dsp mgr adm qa"),
    "inspections:anomaly-detail": E(get=PAGE_CUSTOMER_A, get_b=PAGE_CUSTOMER_B),
    "inspections:anomaly-dismiss": E(writers="dsp mgr adm qa"),
    "inspections:anomaly-follow-up": E(writers="dsp mgr adm qa"),
    "inspections:anomaly-handle": E(writers="dsp mgr adm qa"),
    "inspections:anomaly-list": E(get="302 200 200 200 404 404 200 200 200 200 200 200 404 404"),
    "inspections:checkpoint-create": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:checkpoint-edit": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:checkpoint-move": E(writers="mgr adm"),
    "inspections:checkpoint-qr": E(get=STAFF_PAGE),
    "inspections:checkpoint-remove": E(writers="mgr adm"),
    "inspections:item-create": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:item-edit": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:item-remove": E(writers="mgr adm"),
    "inspections:mobile-round": E(get="302 404 404 404 404 404 200 404 404 404 404 404 404 404"),
    "inspections:mobile-rounds": E(get="302 404 404 404 404 404 200 404 404 404 404 404 404 404"),
    "inspections:quality": E(get="302 200 200 200 403 403 200 200 200 200 200 200 403 403"),
    "inspections:quality-scheme-create": E(get=LEADS_PAGE, writers="mgr adm"),
    "inspections:quality-scheme-edit": E(get=LEADS_PAGE, writers="mgr adm"),
    "inspections:quality-scheme-list": E(get=STAFF_PAGE),
    "inspections:round-adjust-score": E(writers="mgr adm qa"),
    "inspections:round-cancel": E(writers="dsp mgr adm"),
    "inspections:round-detail": E(get=PAGE_CUSTOMER_A, get_b=PAGE_CUSTOMER_B),
    "inspections:round-list": E(get="302 200 200 200 404 404 200 200 200 200 200 200 404 404"),
    "inspections:route-active": E(writers="mgr adm"),
    "inspections:route-create": E(
        get="302 403 403 403 404 404 403 403 403 200 200 403 404 404", writers="mgr adm"
    ),
    "inspections:route-detail": E(get=PAGE_CUSTOMER_A, get_b=PAGE_CUSTOMER_B),
    "inspections:route-edit": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:route-import": E(get=LEADS_PAGE, writers="mgr adm"),
    "inspections:route-import-template": E(get=LEADS_PAGE),
    "inspections:route-list": E(get="302 200 200 200 404 404 200 200 200 200 200 200 404 404"),
    "inspections:route-qr-sheet": E(get=STAFF_PAGE),
    "inspections:schedule-create": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:schedule-edit": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "inspections:sop-create": E(get=LEADS_PAGE, writers="mgr adm"),
    "inspections:sop-detail": E(get=STAFF_PAGE),
    "inspections:sop-list": E(get=STAFF_PAGE),
    "inspections:sop-version-create": E(get=LEADS_PAGE, writers="mgr adm"),
    "login": E(get="200 302 302 302 302 302 302 302 302 302 302 302 302 302", writers=EVERYONE),
    "logout": E(writers=SIGNED_IN),
    "metrics": E(get=NOBODY, writers=""),
    "notifications:inbox": E(get=PAGE_SIGNED_IN),
    "notifications:mark-all-read": E(get=NO_GET, writers=SIGNED_IN),
    "notifications:mark-read": E(get=NO_GET, writers="cau"),
    "notifications:mark-unread": E(get=NO_GET, writers="cau"),
    "notifications:unread-badge": E(get=PAGE_SIGNED_IN, writers=""),
    "password_change": E(get=PAGE_SIGNED_IN, writers=SIGNED_IN),
    "password_change_done": E(get=PAGE_SIGNED_IN),
    "password_reset": E(get=PUBLIC, writers=EVERYONE),
    "password_reset_complete": E(get=PUBLIC),
    "password_reset_confirm": E(get=PUBLIC, writers=EVERYONE),
    "password_reset_done": E(get=PUBLIC),
    "sites:asset-create": E(
        get="302 403 403 403 403 403 200 403 200 200 200 403 403 403", writers="eng dsp mgr adm"
    ),
    "sites:asset-delete": E(
        get=ASSET_EDIT_CUSTOMER_A, get_b=ASSET_EDIT_CUSTOMER_B, writers="eng dsp mgr adm"
    ),
    "sites:asset-detail": E(get=PAGE_CUSTOMER_A, get_b=PAGE_CUSTOMER_B),
    "sites:asset-edit": E(
        get=ASSET_EDIT_CUSTOMER_A, get_b=ASSET_EDIT_CUSTOMER_B, writers="eng dsp mgr adm"
    ),
    "sites:asset-list": E(get=PAGE_SIGNED_IN),
    "sites:project-create": E(
        get="302 403 403 403 403 403 403 403 403 200 200 403 403 403", writers="mgr adm"
    ),
    "sites:project-delete": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "sites:project-detail": E(get=PAGE_CUSTOMER_A, get_b=PAGE_CUSTOMER_B),
    "sites:project-edit": E(
        get=LEADS_PAGE_CUSTOMER_A, get_b=LEADS_PAGE_CUSTOMER_B, writers="mgr adm"
    ),
    "sites:project-list": E(get=PAGE_SIGNED_IN),
    "sites:site-create": E(
        get="302 403 403 403 403 403 403 403 200 200 200 403 403 403", writers="dsp mgr adm"
    ),
    "sites:site-delete": E(
        get=SITE_EDIT_CUSTOMER_A, get_b=SITE_EDIT_CUSTOMER_B, writers="dsp mgr adm"
    ),
    "sites:site-detail": E(get=PAGE_CUSTOMER_A, get_b=PAGE_CUSTOMER_B),
    "sites:site-edit": E(
        get=SITE_EDIT_CUSTOMER_A, get_b=SITE_EDIT_CUSTOMER_B, writers="dsp mgr adm"
    ),
    "sites:site-list": E(get=PAGE_SIGNED_IN),
    "sites:site-map": E(get=PAGE_SIGNED_IN),
    "sites:site-map-data": E(get=PAGE_SIGNED_IN, writers=""),
    "sync:offline-pages": E(
        get="404 404 404 404 200 200 200 404 404 404 404 404 404 404", writers=""
    ),
    "sync:service-worker": E(get=PUBLIC, writers=""),
    "sync:web-manifest": E(get=PUBLIC, writers=""),
}
