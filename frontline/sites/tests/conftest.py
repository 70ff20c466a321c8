"""A small world for the sites tests: two customers, each with a site, a project and assets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from frontline.sites.models import Asset, AssetModel, Project, Site
from frontline.testing import factories as f


@dataclass
class World:
    site_a: Site
    site_b: Site
    project_a: Project
    project_b: Project
    chiller: AssetModel
    asset_a: Asset
    asset_b: Asset

    def obj(self, kind: str, which: str):
        """``obj("sites", "a")`` → customer A's site; asset models are shared by everyone."""
        if kind == "asset-models":
            return self.chiller
        return getattr(
            self, {"sites": "site", "projects": "project", "assets": "asset"}[kind] + "_" + which
        )


@pytest.fixture
def world(cast) -> World:
    site_a = f.SiteFactory(customer=cast.customer_a, name="华东生物 一号厂区", city="上海")
    site_b = f.SiteFactory(customer=cast.customer_b, name="云谷 A 机房", city="杭州")
    project_a = f.ProjectFactory(customer=cast.customer_a, code="HD-2026")
    project_a.sites.add(site_a)
    project_b = f.ProjectFactory(customer=cast.customer_b, code="YG-2026")
    project_b.sites.add(site_b)
    chiller = f.AssetModelFactory(manufacturer="Carrier", model="19XR-1500")
    return World(
        site_a=site_a,
        site_b=site_b,
        project_a=project_a,
        project_b=project_b,
        chiller=chiller,
        asset_a=f.AssetFactory(site=site_a, model=chiller, name="1# 冷水机组", serial="SN-A-1"),
        asset_b=f.AssetFactory(site=site_b, model=chiller, name="2# 冷水机组", serial="SN-B-1"),
    )
