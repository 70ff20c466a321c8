"""Navigation by role and a few settings the base layout needs."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, icon, capability needed — or a tuple: any of them — or None for everyone
# signed in[, a capability that hides the entry]). Customers follow their visits in the
# portal, so the staff work-order list is hidden from those who submit tickets.
NAVIGATION = [
    ("home", _("Home"), "house", None),
    ("desk:ticket-list", _("Tickets"), "life-preserver", "work_tickets"),
    ("desk:portal-ticket-list", _("My requests"), "chat-left-text", "submit_tickets"),
    ("desk:fire-feed", _("Fire feed"), "fire", "call_fire"),
    # Problems are internal: every operator user (view_all_customers) may read them.
    ("desk:problem-list", _("Problems"), "diagram-3", "view_all_customers"),
    ("desk:daily-report", _("Daily report"), "calendar-check", "view_desk_reports"),
    # Field service. Pages built in parallel: a name that does not resolve yet is skipped.
    ("field:work-order-list", _("Work orders"), "truck", "view_work_orders", "submit_tickets"),
    ("field:board", _("Dispatch board"), "kanban", "dispatch_work"),
    ("dispatch:plan-list", _("Plans"), "signpost-2", "dispatch_work"),
    ("field:engineer-list", _("Engineers"), "person-gear", "manage_engineers"),
    ("field:rule-list", _("Dispatch rules"), "funnel", "manage_dispatch_rules"),
    ("field:report", _("Field report"), "graph-up", ("dispatch_work", "view_desk_reports")),
    ("field:mobile-today", _("My jobs"), "phone", "do_field_work"),
    ("field:portal-work-order-list", _("Service visits"), "truck", "submit_tickets"),
    # Inspections and incentives.
    (
        "inspections:round-list",
        _("Rounds"),
        "clipboard-check",
        "view_inspections",
        "submit_tickets",
    ),
    ("inspections:route-list", _("Routes"), "signpost-split", "manage_routes"),
    (
        "inspections:anomaly-list",
        _("Anomalies"),
        "exclamation-triangle",
        "view_inspections",
        "submit_tickets",
    ),
    ("inspections:analysis", _("Route analysis"), "bar-chart-line", "view_inspections"),
    ("inspections:mobile-rounds", _("My rounds"), "qr-code-scan", "do_field_work"),
    ("incentives:leaderboard", _("Leaderboard"), "trophy", "view_leaderboard"),
    ("sites:site-list", _("Sites"), "building", None),
    ("sites:site-map", _("Map"), "geo-alt", None),
    ("sites:project-list", _("Projects"), "briefcase", None),
    ("sites:asset-list", _("Assets"), "cpu", None),
    ("accounts:team-list", _("Teams"), "people", "view_teams"),
]


# Entries are shown in these menus (by URL namespace; an exact name wins); an entry whose
# menu would hold only it is shown on its own. Home, the phone views and the
# leaderboard stay at the top level.
MENUS = {
    "desk": (_("Service desk"), "life-preserver"),
    "field": (_("Field service"), "truck"),
    "inspections": (_("Inspections"), "clipboard-check"),
    "estate": (_("Estate"), "building"),
}
MENU_OF = {
    "desk": "desk",
    "field": "field",
    "dispatch": "field",
    "inspections": "inspections",
    "sites": "estate",
    "accounts:team-list": "estate",
    "field:mobile-today": None,
    "inspections:mobile-rounds": None,
}


def _menu_of(name: str) -> str | None:
    if name in MENU_OF:
        return MENU_OF[name]
    return MENU_OF.get(name.split(":", 1)[0]) if ":" in name else None


def _grouped(nav: list[dict]) -> list[dict]:
    """The top bar: single links and menus, in the order of their first entry."""
    bar: list[dict] = []
    menus: dict[str, dict] = {}
    for item in nav:
        key = item["menu"]
        if key is None:
            bar.append({"item": item})
            continue
        if key not in menus:
            label, icon = MENUS[key]
            menus[key] = {"label": label, "icon": icon, "items": [], "key": key}
            bar.append(menus[key])
        menus[key]["items"].append(item)
    for entry in bar:
        items = entry.get("items")
        if items is not None and len(items) == 1:
            entry["item"] = items[0]
            del entry["items"]
        elif items is not None:
            entry["active"] = any(i["active"] for i in items)
    return bar


def frontline(request):
    user = getattr(request, "user", None)
    nav = []
    if user is not None and user.is_authenticated:
        path = request.path
        for name, label, icon, cap, *unless in NAVIGATION:
            caps = cap if isinstance(cap, tuple) else (cap,) if cap else ()
            if caps and not any(user.has_capability(c) for c in caps):
                continue
            if unless and user.has_capability(unless[0]):
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            nav.append(
                {"url": url, "label": label, "icon": icon, "active": False, "menu": _menu_of(name)}
            )
        # The longest matching prefix wins, so /sites/map/ lights up Map, not Sites too.
        matches = [
            i for i in nav if path == i["url"] or (i["url"] != "/" and path.startswith(i["url"]))
        ]
        if matches:
            max(matches, key=lambda i: len(i["url"]))["active"] = True
    return {
        "nav_items": nav,
        "nav_bar": _grouped(nav),
        "SITE_URL": settings.SITE_URL,
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
        "DEBUG": settings.DEBUG,
    }
