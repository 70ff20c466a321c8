"""Who sees and changes what through the API: role × endpoint × own/other organisation."""

from __future__ import annotations

import pytest

from frontline.core.models import AuditEntry
from frontline.sites.models import Asset, AssetModel, Project, Site

ENDPOINTS = ["sites", "projects", "asset-models", "assets"]
MODELS = {"sites": Site, "projects": Project, "asset-models": AssetModel, "assets": Asset}

STAFF = ["admin", "manager", "dispatcher", "agent", "engineer", "analyst"]
NOBODY = ["partner_admin", "partner_engineer", "supplier_contact", "outsider"]
ALL_ROLES = [*STAFF, "customer_a_admin", "customer_a_user", "customer_b_admin", *NOBODY]

WRITERS = {
    "sites": {"admin", "manager", "dispatcher"},
    "projects": {"admin", "manager"},
    "asset-models": {"admin", "manager"},
    "assets": {"admin", "manager", "dispatcher", "engineer"},
}


def sees(role: str) -> set[str]:
    """Which customers' records (a, b) a role sees."""
    if role in STAFF:
        return {"a", "b"}
    if role.startswith("customer_a"):
        return {"a"}
    if role.startswith("customer_b"):
        return {"b"}
    return set()


def new_payload(kind, cast, world):
    return {
        "sites": {
            "name": "新建厂区",
            "customer": cast.customer_a.pk,
            "latitude": "31.1",
            "longitude": "121.2",
        },
        "projects": {
            "code": "NEW-1",
            "name": "新项目",
            "customer": cast.customer_a.pk,
            "sites": [world.site_a.pk],
        },
        "asset-models": {"manufacturer": "Trane", "model": "CVHE-500", "category": "chiller"},
        "assets": {
            "name": "新机组",
            "serial": "SN-NEW",
            "site": world.site_a.pk,
            "model": world.chiller.pk,
        },
    }[kind]


PATCHES = {
    "sites": ("city", "苏州"),
    "projects": ("name", "改名项目"),
    "asset-models": ("description", "离心式冷水机组"),
    "assets": ("location", "屋顶"),
}


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("kind", ENDPOINTS)
def test_list_shows_only_what_the_role_may_see(api, cast, world, role, kind):
    # Given records of customers A and B, when a role lists an endpoint
    response = api.as_user(cast.by_role(role)).get(f"/api/v1/{kind}/")

    # Then it gets exactly the records of the customers it may see
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    if kind == "asset-models":
        expected = {world.chiller.pk}
    else:
        expected = {world.obj(kind, which).pk for which in sees(role)}
    assert ids == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("kind", ["sites", "projects", "assets"])
@pytest.mark.parametrize("which", ["a", "b"])
def test_retrieve_is_200_or_404(api, cast, world, role, kind, which):
    obj = world.obj(kind, which)
    response = api.as_user(cast.by_role(role)).get(f"/api/v1/{kind}/{obj.pk}/")
    assert response.status_code == (200 if which in sees(role) else 404)
    if response.status_code == 404:
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_catalogue_is_readable_by_everyone_signed_in(api, cast, world, role):
    response = api.as_user(cast.by_role(role)).get(f"/api/v1/asset-models/{world.chiller.pk}/")
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_anonymous_callers_are_refused(api, world, kind):
    assert api.get(f"/api/v1/{kind}/").status_code in (401, 403)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("kind", ENDPOINTS)
def test_create_needs_the_capability(api, cast, world, role, kind):
    model = MODELS[kind]
    before = model.objects.count()

    response = api.as_user(cast.by_role(role)).post(
        f"/api/v1/{kind}/", new_payload(kind, cast, world), format="json"
    )

    if role in WRITERS[kind]:
        assert response.status_code == 201, response.json()
        created = model.objects.get(pk=response.json()["id"])
        assert AuditEntry.objects.for_object(created).get().action == "create"
        assert model.objects.count() == before + 1
    else:
        assert response.status_code == 403
        assert set(response.json()) == {"code", "detail", "fields"}
        assert model.objects.count() == before


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("kind", ENDPOINTS)
@pytest.mark.parametrize("which", ["a", "b"])
def test_patch_is_200_403_or_404(api, cast, world, role, kind, which):
    obj = world.obj(kind, which)
    field, value = PATCHES[kind]
    old = getattr(obj, field)
    visible = kind == "asset-models" or which in sees(role)

    response = api.as_user(cast.by_role(role)).patch(
        f"/api/v1/{kind}/{obj.pk}/", {field: value}, format="json"
    )

    obj.refresh_from_db()
    if not visible:
        assert response.status_code == 404
    elif role not in WRITERS[kind]:
        assert response.status_code == 403
    else:
        assert response.status_code == 200, response.json()
        assert response.json()[field] == value
        assert getattr(obj, field) == value
        assert AuditEntry.objects.for_object(obj).get().changes == {field: [old, value]}
        return
    # A denied write changed nothing and recorded nothing.
    assert getattr(obj, field) == old
    assert not AuditEntry.objects.for_object(obj).exists()


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_put_is_not_offered(api, cast, world, kind):
    obj = world.obj(kind, "a")
    response = api.as_user(cast.admin).put(f"/api/v1/{kind}/{obj.pk}/", {}, format="json")
    assert response.status_code == 405


def test_a_read_only_token_cannot_write(api, cast, world):
    from frontline.accounts import tokens

    _, raw = tokens.create_token(actor=cast.manager, user=cast.manager, name="ro", scopes=["read"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert api.get("/api/v1/sites/").status_code == 200
    response = api.patch(f"/api/v1/sites/{world.site_a.pk}/", {"city": "苏州"}, format="json")
    assert response.status_code == 403
    world.site_a.refresh_from_db()
    assert world.site_a.city == "上海"
