"""Deleting sites, projects, asset models and assets: services, API matrix and pages.

Only records nothing depends on are erased; the rest are a 409 that says to deactivate
or retire instead. Every delete leaves an audit entry with the last values, and every
denied delete leaves the row (and its audit trail) as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client

from frontline.core.deletion import erase
from frontline.core.errors import Conflict, NotFound, PermissionDenied
from frontline.core.models import AuditEntry
from frontline.sites import services
from frontline.sites.models import Asset, AssetModel, Project, Site
from frontline.sites.tests.test_api_access import ALL_ROLES, WRITERS, sees
from frontline.testing import factories as f

MODELS = {"sites": Site, "projects": Project, "asset-models": AssetModel, "assets": Asset}


@dataclass
class Spare:
    """Records nothing depends on, one per customer (the catalogue is shared)."""

    site_a: Site
    site_b: Site
    project_a: Project
    project_b: Project
    asset_model: AssetModel
    asset_a: Asset
    asset_b: Asset

    def obj(self, kind: str, which: str):
        if kind == "asset-models":
            return self.asset_model
        name = {"sites": "site", "projects": "project", "assets": "asset"}[kind]
        return getattr(self, f"{name}_{which}")


@pytest.fixture
def spare(cast, world) -> Spare:
    return Spare(
        site_a=f.SiteFactory(customer=cast.customer_a, name="待删厂区 A"),
        site_b=f.SiteFactory(customer=cast.customer_b, name="待删机房 B"),
        project_a=f.ProjectFactory(customer=cast.customer_a, code="DEL-A"),
        project_b=f.ProjectFactory(customer=cast.customer_b, code="DEL-B"),
        asset_model=f.AssetModelFactory(manufacturer="Trane", model="CVHE-DEL"),
        asset_a=f.AssetFactory(site=world.site_a, model=world.chiller, serial="SN-DEL-A"),
        asset_b=f.AssetFactory(site=world.site_b, model=world.chiller, serial="SN-DEL-B"),
    )


def deletions(obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.for_object(obj).filter(action="delete"))


def part_of(asset: Asset) -> Asset:
    return f.AssetFactory(site=asset.site, model=asset.model, parent=asset, name="压缩机")


# ---------------------------------------------------------------- services


class TestDeleteSite:
    def test_a_manager_deletes_an_unused_site_and_the_audit_keeps_its_values(self, cast, spare):
        # Given a site with no assets and no project
        site, pk = spare.site_a, spare.site_a.pk

        # When a manager deletes it
        services.delete_site(actor=cast.manager, site=site)

        # Then it is gone, and one "delete" entry keeps its last values and who did it
        assert not Site.objects.filter(pk=pk).exists()
        [entry] = AuditEntry.objects.filter(object_id=str(pk), action="delete")
        assert entry.actor == cast.manager
        assert entry.object_repr == "待删厂区 A"
        assert entry.changes["name"] == ["待删厂区 A", None]
        assert entry.changes["customer"] == [cast.customer_a.name, None]

    def test_a_site_with_assets_is_a_conflict_that_says_deactivate(self, cast, world):
        # Given customer A's site, which has an asset (and a project)
        with pytest.raises(Conflict) as exc:
            services.delete_site(actor=cast.manager, site=world.site_a)

        # Then the refusal says to deactivate it, and nothing changed
        assert exc.value.code == "site_has_assets"
        assert "deactivate" in str(exc.value.message)
        assert Site.objects.filter(pk=world.site_a.pk).exists()
        assert deletions(world.site_a) == []

    def test_a_site_a_project_covers_is_a_conflict(self, cast, world, spare):
        # Given a site without assets that a project covers
        spare.project_a.sites.add(spare.site_a)

        with pytest.raises(Conflict) as exc:
            services.delete_site(actor=cast.manager, site=spare.site_a)

        assert exc.value.code == "site_in_project"
        assert "deactivate" in str(exc.value.message)
        assert Site.objects.filter(pk=spare.site_a.pk).exists()
        assert list(spare.project_a.sites.all()) == [spare.site_a]

    @pytest.mark.parametrize(
        "role", ["agent", "engineer", "analyst", "customer_a_admin", "outsider"]
    )
    def test_roles_without_manage_sites_are_refused(self, cast, spare, role):
        with pytest.raises(PermissionDenied):
            services.delete_site(actor=cast.by_role(role), site=spare.site_a)
        assert Site.objects.filter(pk=spare.site_a.pk).exists()
        assert deletions(spare.site_a) == []

    def test_deleting_twice_is_not_found(self, cast, spare):
        site = Site.objects.get(pk=spare.site_a.pk)
        services.delete_site(actor=cast.dispatcher, site=spare.site_a)
        with pytest.raises(NotFound):
            services.delete_site(actor=cast.dispatcher, site=site)


class TestDeleteProject:
    def test_a_manager_deletes_a_project_and_its_sites_stay(self, cast, world):
        pk = world.project_a.pk

        services.delete_project(actor=cast.manager, project=world.project_a)

        assert not Project.objects.filter(pk=pk).exists()
        assert Site.objects.filter(pk=world.site_a.pk).exists()
        [entry] = AuditEntry.objects.filter(object_id=str(pk), action="delete")
        assert entry.changes["code"] == ["HD-2026", None]
        assert entry.changes["sites"] == [[world.site_a.name], None]

    @pytest.mark.parametrize("role", ["dispatcher", "engineer", "customer_a_admin"])
    def test_roles_without_manage_projects_are_refused(self, cast, world, role):
        with pytest.raises(PermissionDenied):
            services.delete_project(actor=cast.by_role(role), project=world.project_a)
        assert list(world.project_a.sites.all()) == [world.site_a]
        assert deletions(world.project_a) == []


class TestDeleteAssetModel:
    def test_an_unused_model_is_deleted_and_audited(self, cast, spare):
        pk = spare.asset_model.pk

        services.delete_asset_model(actor=cast.manager, asset_model=spare.asset_model)

        assert not AssetModel.objects.filter(pk=pk).exists()
        [entry] = AuditEntry.objects.filter(object_id=str(pk), action="delete")
        assert entry.changes["model"] == ["CVHE-DEL", None]

    def test_a_model_in_use_is_a_conflict(self, cast, world):
        with pytest.raises(Conflict) as exc:
            services.delete_asset_model(actor=cast.manager, asset_model=world.chiller)
        assert exc.value.code == "asset_model_in_use"
        assert AssetModel.objects.filter(pk=world.chiller.pk).exists()
        assert deletions(world.chiller) == []

    def test_a_dispatcher_may_not_change_the_catalogue(self, cast, spare):
        with pytest.raises(PermissionDenied):
            services.delete_asset_model(actor=cast.dispatcher, asset_model=spare.asset_model)
        assert AssetModel.objects.filter(pk=spare.asset_model.pk).exists()


class TestDeleteAsset:
    def test_an_engineer_deletes_an_asset_without_parts(self, cast, world):
        pk = world.asset_a.pk

        services.delete_asset(actor=cast.engineer, asset=world.asset_a)

        assert not Asset.objects.filter(pk=pk).exists()
        [entry] = AuditEntry.objects.filter(object_id=str(pk), action="delete")
        assert entry.actor == cast.engineer
        assert entry.changes["serial"] == ["SN-A-1", None]
        assert entry.changes["site"] == [world.site_a.name, None]

    def test_an_asset_with_parts_is_a_conflict_until_the_parts_go(self, cast, world):
        # Given an asset with one part
        part = part_of(world.asset_a)

        # When someone deletes the asset, then it is refused and nothing changes
        with pytest.raises(Conflict) as exc:
            services.delete_asset(actor=cast.manager, asset=world.asset_a)
        assert exc.value.code == "asset_has_parts"
        assert Asset.objects.filter(pk__in=[world.asset_a.pk, part.pk]).count() == 2
        assert deletions(world.asset_a) == []

        # And once the part is deleted, the asset may go
        services.delete_asset(actor=cast.manager, asset=part)
        services.delete_asset(actor=cast.manager, asset=world.asset_a)
        assert not Asset.objects.filter(pk=world.asset_a.pk).exists()

    @pytest.mark.parametrize("role", ["agent", "analyst", "customer_a_admin", "partner_admin"])
    def test_roles_without_manage_assets_are_refused(self, cast, world, role):
        with pytest.raises(PermissionDenied):
            services.delete_asset(actor=cast.by_role(role), asset=world.asset_a)
        assert Asset.objects.filter(pk=world.asset_a.pk).exists()


def test_a_protected_row_the_service_did_not_check_is_a_conflict_not_a_500(cast, world):
    # Given a site that still has an asset, erased without the service's own check
    with pytest.raises(Conflict) as exc, transaction.atomic():
        erase(actor=cast.admin, instance=world.site_a, fields=["name"], in_use_message="in use")

    # Then the protected foreign key turns into a 409, and the audit entry rolled back with it
    assert exc.value.status == 409
    assert Site.objects.filter(pk=world.site_a.pk).exists()
    assert deletions(world.site_a) == []


# ---------------------------------------------------------------- API


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("which", ["a", "b"])
def test_delete_is_204_403_or_404(api, cast, spare, role, kind, which):
    # Given a record nothing depends on, of customer A or B
    obj = spare.obj(kind, which)
    model = MODELS[kind]
    visible = kind == "asset-models" or which in sees(role)

    # When a role deletes it through the API
    response = api.as_user(cast.by_role(role)).delete(f"/api/v1/{kind}/{obj.pk}/")

    # Then another customer's record is a 404, a visible one without the right a 403,
    # and only a writer erases it (with an audit entry)
    if visible and role in WRITERS[kind]:
        assert response.status_code == 204, response.content
        assert not model.objects.filter(pk=obj.pk).exists()
        assert AuditEntry.objects.for_object(obj).get().action == "delete"
        return
    assert response.status_code == (403 if visible else 404)
    assert set(response.json()) == {"code", "detail", "fields"}
    assert model.objects.filter(pk=obj.pk).exists()
    assert not AuditEntry.objects.for_object(obj).exists()


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("sites", "site_has_assets"),
        ("asset-models", "asset_model_in_use"),
        ("assets", "asset_has_parts"),
    ],
)
def test_deleting_a_record_in_use_is_409_and_keeps_it(api, cast, world, kind, code):
    # Given a record something depends on (site A has an asset; the chiller model is used)
    obj = world.obj(kind, "a")
    if kind == "assets":
        part_of(obj)

    response = api.as_user(cast.admin).delete(f"/api/v1/{kind}/{obj.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert MODELS[kind].objects.filter(pk=obj.pk).exists()
    assert deletions(obj) == []


@pytest.mark.parametrize("pk", ["0", "abc", "99999999999999999999", "999999"])
def test_deleting_odd_or_missing_ids_is_404(api, cast, world, pk):
    assert api.as_user(cast.admin).delete(f"/api/v1/sites/{pk}/").status_code == 404


def test_a_read_only_token_cannot_delete(api, cast, spare):
    from frontline.accounts import tokens

    _, raw = tokens.create_token(actor=cast.manager, user=cast.manager, name="ro", scopes=["read"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api.delete(f"/api/v1/sites/{spare.site_a.pk}/")

    assert response.status_code == 403
    assert Site.objects.filter(pk=spare.site_a.pk).exists()


# ---------------------------------------------------------------- pages

PAGE_KINDS = {"site": "sites", "project": "projects", "asset": "assets"}
LIST_URLS = {"site": "/sites/", "project": "/projects/", "asset": "/assets/"}


def delete_url(kind: str, obj) -> str:
    return f"/{PAGE_KINDS[kind]}/{obj.pk}/delete/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    ("kind", "role"), [("site", "dispatcher"), ("project", "manager"), ("asset", "engineer")]
)
def test_a_writer_deletes_from_the_page_and_lands_on_the_list(client, cast, spare, kind, role):
    # Given a writer on the record's page, which offers a Delete button with a confirmation
    obj = spare.obj(PAGE_KINDS[kind], "a")
    client.force_login(cast.by_role(role))
    page = client.get(obj.get_absolute_url()).content.decode()
    assert f'action="{delete_url(kind, obj)}"' in page
    assert 'data-testid="delete"' in page and "data-confirm=" in page

    # When they confirm
    response = client.post(delete_url(kind, obj))

    # Then the record is gone and the list says so
    assert response.status_code == 302
    assert response["Location"] == LIST_URLS[kind]
    assert not type(obj).objects.filter(pk=obj.pk).exists()
    assert any(str(obj) in m for m in messages_of(response))


def test_a_get_shows_a_confirmation_page_that_changes_nothing(client, cast, spare):
    client.force_login(cast.manager)

    response = client.get(delete_url("site", spare.site_a))

    assert response.status_code == 200
    body = response.content.decode()
    assert "待删厂区 A" in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'data-testid="confirm-delete"' in body
    assert Site.objects.filter(pk=spare.site_a.pk).exists()


@pytest.mark.parametrize("kind", list(PAGE_KINDS))
@pytest.mark.parametrize("role", ["agent", "analyst", "customer_a_admin", "customer_a_user"])
def test_who_may_see_but_not_edit_gets_no_button_and_403(client, cast, spare, kind, role):
    obj = spare.obj(PAGE_KINDS[kind], "a")
    client.force_login(cast.by_role(role))

    assert 'data-testid="delete"' not in client.get(obj.get_absolute_url()).content.decode()
    assert client.get(delete_url(kind, obj)).status_code == 403
    assert client.post(delete_url(kind, obj)).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert deletions(obj) == []


@pytest.mark.parametrize("kind", list(PAGE_KINDS))
@pytest.mark.parametrize("role", ["customer_b_admin", "partner_admin", "outsider"])
def test_another_customers_record_is_404(client, cast, spare, kind, role):
    obj = spare.obj(PAGE_KINDS[kind], "a")
    client.force_login(cast.by_role(role))

    assert client.get(delete_url(kind, obj)).status_code == 404
    assert client.post(delete_url(kind, obj)).status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, spare):
    response = client.post(delete_url("site", spare.site_a))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Site.objects.filter(pk=spare.site_a.pk).exists()


def test_a_conflict_shows_its_message_on_the_record_and_keeps_it(client, cast, world):
    # Given site A, which has an asset
    client.force_login(cast.manager)

    # When a manager deletes it from its page
    response = client.post(delete_url("site", world.site_a), follow=True)

    # Then they are back on the site's page, which says to deactivate it instead
    assert response.redirect_chain == [(world.site_a.get_absolute_url(), 302)]
    body = response.content.decode()
    assert str(services.SITE_HAS_ASSETS) in body
    assert Site.objects.get(pk=world.site_a.pk).is_active
    assert deletions(world.site_a) == []


def test_the_delete_form_enforces_csrf(cast, spare):
    # Given a manager whose browser does not send the CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.manager)

    # Then a bare POST is refused and the site stays
    assert client.post(delete_url("site", spare.site_a)).status_code == 403
    assert Site.objects.filter(pk=spare.site_a.pk).exists()

    # And with the token from the confirmation page it goes through
    client.get(delete_url("site", spare.site_a))
    token = client.cookies["csrftoken"].value
    response = client.post(delete_url("site", spare.site_a), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert not Site.objects.filter(pk=spare.site_a.pk).exists()


def test_a_name_with_markup_is_escaped_in_the_confirmation(client, cast, spare):
    Site.objects.filter(pk=spare.site_a.pk).update(name='"><script>alert(1)</script>')
    client.force_login(cast.manager)

    for url in (spare.site_a.get_absolute_url(), delete_url("site", spare.site_a)):
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body
        assert "&lt;script&gt;" in body
