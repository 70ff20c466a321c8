"""The verbs: who may call them, what they refuse, and what they record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.sites import services
from frontline.sites.models import Asset, AssetModel, AssetStatus, Project, Site
from frontline.testing import factories as f


def entries(obj):
    return list(AuditEntry.objects.for_object(obj))


def site_values(cast, **overrides):
    values = {
        "customer": cast.customer_a,
        "name": "张江 2 号楼",
        "address": "张江路 200 号",
        "city": "上海",
        "latitude": Decimal("31.2"),
        "longitude": Decimal("121.6"),
    }
    return values | overrides


# ---------------------------------------------------------------- sites


class TestCreateSite:
    def test_a_manager_adds_a_site_and_it_is_audited(self, cast):
        # Given a manager, when they add a site for customer A
        site = services.create_site(actor=cast.manager, **site_values(cast, name="  张江 2 号楼 "))

        # Then it is stored (name tidied) and one "create" entry records the values
        site.refresh_from_db()
        assert site.name == "张江 2 号楼"
        assert site.customer == cast.customer_a
        [entry] = entries(site)
        assert entry.action == "create"
        assert entry.actor == cast.manager
        assert entry.changes["name"] == [None, "张江 2 号楼"]
        assert entry.changes["latitude"] == [None, "31.2"]

    @pytest.mark.parametrize(
        "role", ["agent", "engineer", "analyst", "customer_a_admin", "partner_admin", "outsider"]
    )
    def test_roles_without_manage_sites_are_refused(self, cast, role):
        with pytest.raises(PermissionDenied):
            services.create_site(actor=cast.by_role(role), **site_values(cast))
        assert not Site.objects.exists()

    @pytest.mark.parametrize("org", ["partner", "supplier", "operator"])
    def test_the_customer_must_be_a_customer_organisation(self, cast, org):
        with pytest.raises(ValidationFailed) as exc:
            services.create_site(
                actor=cast.manager, **site_values(cast, customer=getattr(cast, org))
            )
        assert "customer" in exc.value.fields
        assert not Site.objects.exists()

    @pytest.mark.parametrize(
        ("latitude", "longitude", "field"),
        [
            (Decimal("31.2"), None, "longitude"),
            (None, Decimal("121.6"), "latitude"),
            (Decimal("90.5"), Decimal("121.6"), "latitude"),
            (Decimal("-91"), Decimal("121.6"), "latitude"),
            (Decimal("31.2"), Decimal("180.01"), "longitude"),
            (Decimal("31.2"), Decimal("-181"), "longitude"),
        ],
    )
    def test_coordinates_are_both_or_neither_and_in_range(self, cast, latitude, longitude, field):
        with pytest.raises(ValidationFailed) as exc:
            services.create_site(
                actor=cast.manager, **site_values(cast, latitude=latitude, longitude=longitude)
            )
        assert field in exc.value.fields
        assert not Site.objects.exists()

    def test_no_coordinates_at_all_is_fine(self, cast):
        site = services.create_site(
            actor=cast.manager, **site_values(cast, latitude=None, longitude=None)
        )
        assert site.latitude is None and site.longitude is None

    def test_extreme_coordinates_are_accepted(self, cast):
        site = services.create_site(
            actor=cast.manager,
            **site_values(cast, latitude=Decimal("-90"), longitude=Decimal("180")),
        )
        assert site.pk

    def test_a_site_name_is_unique_per_customer_only(self, cast):
        services.create_site(actor=cast.manager, **site_values(cast))

        with pytest.raises(ValidationFailed) as exc:
            services.create_site(actor=cast.manager, **site_values(cast))
        assert "name" in exc.value.fields

        other = services.create_site(
            actor=cast.manager, **site_values(cast, customer=cast.customer_b)
        )
        assert other.pk
        assert Site.objects.count() == 2

    def test_a_duplicate_lost_to_a_race_is_still_a_field_error(self, cast, monkeypatch):
        # Given the pre-check passed (another request inserted the same name meanwhile)
        services.create_site(actor=cast.manager, **site_values(cast))
        monkeypatch.setattr(services, "_validate_site", lambda **kwargs: None)

        # When the insert hits the unique constraint, then it is a 400-style field error
        with pytest.raises(ValidationFailed) as exc:
            services.create_site(actor=cast.manager, **site_values(cast))
        assert exc.value.fields == {"name": [str(services.DUPLICATE_SITE)]}
        assert Site.objects.count() == 1

    @pytest.mark.parametrize("tz", ["Mars/Olympus", "", "Asia/Shanghai; DROP TABLE"])
    def test_the_time_zone_must_exist(self, cast, tz):
        with pytest.raises(ValidationFailed) as exc:
            services.create_site(actor=cast.manager, **site_values(cast, time_zone=tz))
        assert "time_zone" in exc.value.fields

    def test_a_blank_name_and_a_long_city_are_field_errors_together(self, cast):
        with pytest.raises(ValidationFailed) as exc:
            services.create_site(
                actor=cast.manager, **site_values(cast, name="   ", city="x" * 101)
            )
        assert {"name", "city"} <= set(exc.value.fields)


class TestUpdateSite:
    def test_changes_are_audited_old_to_new(self, cast, world):
        site = services.update_site(
            actor=cast.dispatcher, site=world.site_a, city="苏州", address="新地址"
        )

        assert Site.objects.get(pk=site.pk).city == "苏州"
        [entry] = entries(site)
        assert entry.action == "update"
        assert entry.changes == {
            "city": ["上海", "苏州"],
            "address": ["上海市浦东新区张江路 100 号", "新地址"],
        }

    def test_nothing_changed_writes_nothing(self, cast, world):
        services.update_site(actor=cast.manager, site=world.site_a, city=world.site_a.city)
        assert entries(world.site_a) == []

    def test_the_diff_is_against_the_database_not_the_callers_copy(self, cast, world):
        # Given a form changed the caller's copy in memory
        stale = Site.objects.get(pk=world.site_a.pk)
        stale.name = "改过的名字"

        # When the service is asked to set that name
        services.update_site(actor=cast.manager, site=stale, name="改过的名字")

        # Then the audit shows the stored name as the old value
        [entry] = entries(world.site_a)
        assert entry.changes["name"] == ["华东生物 一号厂区", "改过的名字"]

    def test_a_capability_is_needed(self, cast, world):
        with pytest.raises(PermissionDenied):
            services.update_site(actor=cast.agent, site=world.site_a, city="苏州")
        assert Site.objects.get(pk=world.site_a.pk).city == "上海"
        assert entries(world.site_a) == []

    def test_renaming_onto_a_sibling_is_refused(self, cast, world):
        f.SiteFactory(customer=cast.customer_a, name="二号厂区")
        with pytest.raises(ValidationFailed) as exc:
            services.update_site(actor=cast.manager, site=world.site_a, name="二号厂区")
        assert "name" in exc.value.fields
        assert Site.objects.get(pk=world.site_a.pk).name == "华东生物 一号厂区"

    def test_clearing_only_the_latitude_is_refused(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_site(actor=cast.manager, site=world.site_a, latitude=None)
        assert "latitude" in exc.value.fields
        assert Site.objects.get(pk=world.site_a.pk).latitude == Decimal("31.2034")

    def test_a_site_covered_by_its_customers_project_cannot_change_customer(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_site(actor=cast.manager, site=world.site_a, customer=cast.customer_b)
        assert "customer" in exc.value.fields
        assert Site.objects.get(pk=world.site_a.pk).customer == cast.customer_a

    def test_unknown_fields_are_refused(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_site(actor=cast.manager, site=world.site_a, created_at=None)
        assert "created_at" in exc.value.fields

    def test_deactivating_is_an_update(self, cast, world):
        services.update_site(actor=cast.manager, site=world.site_a, is_active=False)
        assert not Site.objects.get(pk=world.site_a.pk).is_active
        assert entries(world.site_a)[0].changes == {"is_active": [True, False]}


# ---------------------------------------------------------------- projects


class TestProjects:
    def test_a_manager_records_a_contract_with_sites(self, cast, world):
        project = services.create_project(
            actor=cast.manager,
            customer=cast.customer_a,
            code="HD-2027",
            name="2027 运维",
            sites=[world.site_a],
            contract_start=dt.date(2027, 1, 1),
            contract_end=dt.date(2027, 12, 31),
        )

        assert list(project.sites.all()) == [world.site_a]
        [entry] = entries(project)
        assert entry.action == "create"
        assert entry.changes["code"] == [None, "HD-2027"]
        assert entry.changes["sites"] == [[], ["华东生物 一号厂区"]]

    def test_a_dispatcher_may_not_record_contracts(self, cast):
        with pytest.raises(PermissionDenied):
            services.create_project(
                actor=cast.dispatcher, customer=cast.customer_a, code="X", name="X"
            )
        assert not Project.objects.exists()

    def test_sites_must_belong_to_the_projects_customer(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.create_project(
                actor=cast.manager,
                customer=cast.customer_a,
                code="HD-X",
                name="X",
                sites=[world.site_b],
            )
        assert "sites" in exc.value.fields
        assert not Project.objects.filter(code="HD-X").exists()

    def test_codes_are_unique(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.create_project(
                actor=cast.manager, customer=cast.customer_a, code="HD-2026", name="X"
            )
        assert "code" in exc.value.fields
        assert Project.objects.filter(code="HD-2026").count() == 1

    def test_a_contract_cannot_end_before_it_starts(self, cast):
        with pytest.raises(ValidationFailed) as exc:
            services.create_project(
                actor=cast.manager,
                customer=cast.customer_a,
                code="X",
                name="X",
                contract_start=dt.date(2027, 1, 1),
                contract_end=dt.date(2026, 1, 1),
            )
        assert "contract_end" in exc.value.fields

    def test_the_customer_must_be_a_customer(self, cast):
        with pytest.raises(ValidationFailed) as exc:
            services.create_project(actor=cast.manager, customer=cast.partner, code="X", name="X")
        assert "customer" in exc.value.fields

    def test_changing_sites_is_audited_as_a_set(self, cast, world):
        second = f.SiteFactory(customer=cast.customer_a, name="二号厂区")

        services.update_project(actor=cast.manager, project=world.project_a, sites=[second])

        assert list(Project.objects.get(pk=world.project_a.pk).sites.all()) == [second]
        [entry] = entries(world.project_a)
        assert entry.changes == {"sites": [["华东生物 一号厂区"], ["二号厂区"]]}

    def test_adding_a_foreign_site_changes_nothing(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_project(
                actor=cast.manager, project=world.project_a, sites=[world.site_a, world.site_b]
            )
        assert "sites" in exc.value.fields
        assert list(world.project_a.sites.all()) == [world.site_a]
        assert entries(world.project_a) == []

    def test_changing_the_customer_while_covering_its_sites_is_refused(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_project(
                actor=cast.manager, project=world.project_a, customer=cast.customer_b
            )
        assert "customer" in exc.value.fields
        assert Project.objects.get(pk=world.project_a.pk).customer == cast.customer_a

    def test_changing_customer_and_sites_together_is_fine(self, cast, world):
        services.update_project(
            actor=cast.manager,
            project=world.project_a,
            customer=cast.customer_b,
            sites=[world.site_b],
        )
        project = Project.objects.get(pk=world.project_a.pk)
        assert project.customer == cast.customer_b
        assert list(project.sites.all()) == [world.site_b]
        assert set(entries(project)[0].changes) == {"customer", "sites"}

    def test_taking_another_projects_code_is_refused(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_project(actor=cast.manager, project=world.project_a, code="YG-2026")
        assert "code" in exc.value.fields


# ---------------------------------------------------------------- asset models


class TestAssetModels:
    def test_a_manager_adds_a_model(self, cast):
        model = services.create_asset_model(
            actor=cast.manager, manufacturer="Trane", model="CVHE", category="chiller"
        )
        assert entries(model)[0].changes["manufacturer"] == [None, "Trane"]

    def test_a_dispatcher_may_not(self, cast):
        with pytest.raises(PermissionDenied):
            services.create_asset_model(
                actor=cast.dispatcher, manufacturer="T", model="C", category="chiller"
            )
        assert not AssetModel.objects.exists()

    def test_make_and_model_are_unique(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.create_asset_model(
                actor=cast.manager, manufacturer="Carrier", model="19XR-1500", category="chiller"
            )
        assert "model" in exc.value.fields

    def test_the_category_must_be_known(self, cast):
        with pytest.raises(ValidationFailed) as exc:
            services.create_asset_model(
                actor=cast.manager, manufacturer="T", model="C", category="toaster"
            )
        assert "category" in exc.value.fields

    def test_an_update_is_audited(self, cast, world):
        services.update_asset_model(
            actor=cast.admin, asset_model=world.chiller, description="离心式"
        )
        assert entries(world.chiller)[0].changes == {"description": ["", "离心式"]}


# ---------------------------------------------------------------- assets


class TestAssets:
    def test_an_engineer_registers_a_part_of_an_asset(self, cast, world):
        pump = services.create_asset(
            actor=cast.engineer,
            site=world.site_a,
            model=f.AssetModelFactory(category="pump"),
            name="冷冻水泵",
            serial="P-1",
            parent=world.asset_a,
        )
        assert pump.parent == world.asset_a
        entry = entries(pump)[0]
        assert entry.changes["parent"] == [None, str(world.asset_a)]

    def test_an_agent_may_not(self, cast, world):
        with pytest.raises(PermissionDenied):
            services.create_asset(
                actor=cast.agent, site=world.site_a, model=world.chiller, name="x", serial="x"
            )
        assert Asset.objects.count() == 2

    def test_the_parent_must_be_at_the_same_site(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.create_asset(
                actor=cast.manager,
                site=world.site_a,
                model=world.chiller,
                name="x",
                serial="x",
                parent=world.asset_b,
            )
        assert "parent" in exc.value.fields
        assert Asset.objects.count() == 2

    def test_an_asset_cannot_be_part_of_itself(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_asset(actor=cast.manager, asset=world.asset_a, parent=world.asset_a)
        assert "parent" in exc.value.fields

    def test_an_asset_cannot_be_part_of_its_own_part(self, cast, world):
        # Given A ⊃ B ⊃ C
        b = f.AssetFactory(site=world.site_a, parent=world.asset_a)
        c = f.AssetFactory(site=world.site_a, parent=b)

        # When A is made part of C, then that cycle is refused
        with pytest.raises(ValidationFailed) as exc:
            services.update_asset(actor=cast.manager, asset=world.asset_a, parent=c)
        assert "parent" in exc.value.fields
        assert Asset.objects.get(pk=world.asset_a.pk).parent is None

    def test_serials_are_unique_per_model(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.create_asset(
                actor=cast.manager,
                site=world.site_a,
                model=world.chiller,
                name="x",
                serial="SN-A-1",
            )
        assert "serial" in exc.value.fields

        other_model = f.AssetModelFactory()
        asset = services.create_asset(
            actor=cast.manager, site=world.site_a, model=other_model, name="x", serial="SN-A-1"
        )
        assert asset.pk

    def test_moving_an_asset_with_parts_to_another_site_is_refused(self, cast, world):
        f.AssetFactory(site=world.site_a, parent=world.asset_a)
        other_site = f.SiteFactory(customer=cast.customer_a)
        with pytest.raises(ValidationFailed) as exc:
            services.update_asset(actor=cast.manager, asset=world.asset_a, site=other_site)
        assert "site" in exc.value.fields
        assert Asset.objects.get(pk=world.asset_a.pk).site == world.site_a

    def test_a_status_change_is_audited(self, cast, world):
        services.update_asset(actor=cast.engineer, asset=world.asset_a, status=AssetStatus.FAULTY)
        assert entries(world.asset_a)[0].changes == {"status": ["in_service", "faulty"]}

    def test_retired_equipment_stays_retired(self, cast, world):
        services.update_asset(actor=cast.manager, asset=world.asset_a, status=AssetStatus.RETIRED)
        with pytest.raises(ValidationFailed) as exc:
            services.update_asset(
                actor=cast.manager, asset=world.asset_a, status=AssetStatus.IN_SERVICE
            )
        assert "status" in exc.value.fields
        assert Asset.objects.get(pk=world.asset_a.pk).status == AssetStatus.RETIRED

    def test_an_unknown_status_is_a_field_error(self, cast, world):
        with pytest.raises(ValidationFailed) as exc:
            services.update_asset(actor=cast.manager, asset=world.asset_a, status="exploded")
        assert "status" in exc.value.fields
