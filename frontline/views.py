"""The home page: real figures for what the signed-in user may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from frontline.accounts.models import Organization, OrganizationKind, Team
from frontline.sites.models import Asset, AssetCategory, AssetStatus, Project, Site


@login_required
def home(request):
    user = request.user
    sites = Site.objects.visible_to(user)
    assets = Asset.objects.visible_to(user)
    projects = Project.objects.visible_to(user)
    asset_figures = assets.aggregate(
        total=Count("pk"),
        faulty=Count("pk", filter=Q(status=AssetStatus.FAULTY)),
        maintenance=Count("pk", filter=Q(status=AssetStatus.UNDER_MAINTENANCE)),
    )
    figures = {
        "sites": sites.count(),
        "projects_active": projects.filter(is_active=True).count(),
        "assets": asset_figures["total"],
        "assets_faulty": asset_figures["faulty"],
        "assets_maintenance": asset_figures["maintenance"],
        "customers": Organization.objects.visible_to(user)
        .filter(kind=OrganizationKind.CUSTOMER)
        .count(),
        "teams": Team.objects.visible_to(user).count(),
    }
    recent_projects = projects.select_related("customer").order_by("-contract_start", "pk")[:5]
    labels = dict(AssetCategory.choices)
    by_category = [
        {"label": labels.get(row["model__category"], row["model__category"]), "n": row["n"]}
        for row in assets.values("model__category")
        .annotate(n=Count("pk"))
        .order_by("-n", "model__category")[:8]
    ]
    return render(
        request,
        "home.html",
        {"figures": figures, "recent_projects": recent_projects, "by_category": by_category},
    )
