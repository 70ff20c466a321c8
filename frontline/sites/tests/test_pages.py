"""The pages: lists, details, forms, htmx partials, and who gets 403 or 404."""

from __future__ import annotations

import pytest
from django.test import Client

from frontline.core.models import AuditEntry
from frontline.sites.models import Asset, Project, Site

HUGE = "99999999999999999999"

LIST_URLS = {"site": "/sites/", "project": "/projects/", "asset": "/assets/"}
WRITERS = {
    "site": {"admin", "manager", "dispatcher"},
    "project": {"admin", "manager"},
    "asset": {"admin", "manager", "dispatcher", "engineer"},
}
READERS_A = [
    "admin",
    "manager",
    "dispatcher",
    "agent",
    "engineer",
    "analyst",
    "customer_a_admin",
    "customer_a_user",
]


def obj_of(world, kind, which):
    return getattr(world, f"{kind}_{which}")


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- lists


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
def test_a_customer_lists_only_its_own_records(client, cast, world, kind):
    client.force_login(cast.customer_a_user)
    response = client.get(LIST_URLS[kind])
    assert response.status_code == 200
    ids = [o.pk for o in response.context["object_list"]]
    assert ids == [obj_of(world, kind, "a").pk]
    assert obj_of(world, kind, "b").get_absolute_url() not in text(response)


@pytest.mark.parametrize("role", ["partner_admin", "supplier_contact", "outsider"])
def test_organisations_without_customers_see_empty_lists(client, cast, world, role):
    client.force_login(cast.by_role(role))
    for url in LIST_URLS.values():
        response = client.get(url)
        assert response.status_code == 200
        assert list(response.context["object_list"]) == []


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
def test_anonymous_visitors_are_sent_to_sign_in(client, world, kind):
    response = client.get(LIST_URLS[kind])
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_site_list_shows_names_in_a_table_and_search_finds_them(client, cast, world):
    client.force_login(cast.manager)
    response = client.get("/sites/", {"q": "一号"})
    body = text(response)
    assert '<table class="table table-hover table-list" data-testid="site-table">' in body
    assert "华东生物 一号厂区" in body
    assert "云谷 A 机房" not in body


@pytest.mark.parametrize(
    ("kind", "query", "expected"),
    [
        ("site", {"customer": "{customer_b}"}, ["b"]),
        ("site", {"sort": "-name", "q": "Plant"}, ["a", "b"]),
        ("site", {"sort": "name", "q": "Plant"}, ["b", "a"]),
        ("project", {"sort": "code"}, ["a", "b"]),
        ("asset", {"status": "in_service", "sort": "-serial"}, ["b", "a"]),
        ("asset", {"site": "{site_a}"}, ["a"]),
    ],
)
def test_filters_and_sorting(client, cast, world, kind, query, expected):
    # ASCII names, so the order is the same under every database collation.
    Site.objects.filter(pk=world.site_a.pk).update(name="Plant B")
    Site.objects.filter(pk=world.site_b.pk).update(name="Plant A")
    client.force_login(cast.manager)
    query = {
        k: v.format(customer_b=cast.customer_b.pk, site_a=world.site_a.pk) for k, v in query.items()
    }
    response = client.get(LIST_URLS[kind], query)
    assert [o.pk for o in response.context["object_list"]] == [
        obj_of(world, kind, w).pk for w in expected
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "customer__memberships__user__password"},
        {"sort": HUGE},
        {"customer": HUGE},
        {"customer": "abc"},
        {"page": HUGE},
        {"page": "last"},
        {"q": "x" * 5000},
        {"is_active": "maybe"},
    ],
)
@pytest.mark.parametrize("kind", ["site", "project", "asset"])
def test_odd_query_parameters_never_break_a_list_page(client, cast, world, kind, query):
    client.force_login(cast.manager)
    response = client.get(LIST_URLS[kind], query)
    assert response.status_code in (200, 404)


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
@pytest.mark.parametrize(
    "role", ["admin", "manager", "dispatcher", "agent", "engineer", "customer_a_admin"]
)
def test_the_new_button_is_shown_only_to_who_may_create(client, cast, world, kind, role):
    client.force_login(cast.by_role(role))
    body = text(client.get(LIST_URLS[kind]))
    assert (f'href="/{kind}s/new/"' in body) == (role in WRITERS[kind])


def test_an_htmx_request_gets_only_the_partial(client, cast, world):
    client.force_login(cast.manager)

    full = client.get("/sites/", {"q": "云谷"})
    partial = client.get("/sites/", {"q": "云谷"}, headers={"HX-Request": "true"})

    assert "<html" in text(full) and 'id="results"' in text(full)
    assert partial.status_code == 200
    assert "<html" not in text(partial) and '<nav class="navbar' not in text(partial)
    assert 'data-testid="site-table"' in text(partial)
    assert "云谷 A 机房" in text(partial)
    assert "华东生物 一号厂区" not in text(partial)


def test_a_history_restore_gets_the_whole_page(client, cast, world):
    client.force_login(cast.manager)
    response = client.get(
        "/assets/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in text(response)


# ---------------------------------------------------------------- details


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
@pytest.mark.parametrize("role", READERS_A)
def test_readers_open_customer_a_details(client, cast, world, kind, role):
    client.force_login(cast.by_role(role))
    response = client.get(obj_of(world, kind, "a").get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
@pytest.mark.parametrize(
    "role", ["customer_a_admin", "customer_a_user", "partner_admin", "supplier_contact", "outsider"]
)
def test_another_customers_detail_and_edit_are_404(client, cast, world, kind, role):
    client.force_login(cast.by_role(role))
    other = obj_of(world, kind, "b")
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(f"{other.get_absolute_url()}edit/").status_code == 404
    assert client.post(f"{other.get_absolute_url()}edit/", {"name": "hijack"}).status_code == 404


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
@pytest.mark.parametrize("pk", [HUGE, "0", "abc", "-1"])
def test_malformed_ids_in_page_urls_are_404(client, cast, world, kind, pk):
    client.force_login(cast.manager)
    assert client.get(f"/{kind}s/{pk}/").status_code == 404
    assert client.get(f"/{kind}s/{pk}/edit/").status_code == 404


def test_the_site_page_shows_its_assets_projects_and_history(client, cast, world):
    client.force_login(cast.manager)
    from frontline.sites import services

    services.update_site(actor=cast.manager, site=world.site_a, city="苏州")
    body = text(client.get(world.site_a.get_absolute_url()))
    assert world.asset_a.get_absolute_url() in body
    assert world.project_a.get_absolute_url() in body
    assert 'data-testid="audit"' in body
    assert "<del>上海</del> → <ins>苏州</ins>" in body


def test_customers_do_not_see_the_history(client, cast, world):
    client.force_login(cast.customer_a_user)
    assert 'data-testid="audit"' not in text(client.get(world.site_a.get_absolute_url()))


def test_the_project_page_lists_its_sites(client, cast, world):
    client.force_login(cast.agent)
    body = text(client.get(world.project_a.get_absolute_url()))
    assert world.site_a.get_absolute_url() in body


def test_the_asset_page_lists_its_parts(client, cast, world):
    from frontline.testing import factories as f

    part = f.AssetFactory(site=world.site_a, parent=world.asset_a, name="冷冻水泵")
    client.force_login(cast.engineer)
    body = text(client.get(world.asset_a.get_absolute_url()))
    assert part.get_absolute_url() in body and "冷冻水泵" in body


# ---------------------------------------------------------------- forms


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
@pytest.mark.parametrize(
    "role", ["agent", "analyst", "customer_a_admin", "customer_a_user", "partner_admin", "outsider"]
)
def test_who_may_not_create_gets_403(client, cast, world, kind, role):
    if role in WRITERS[kind]:
        pytest.skip("a writer")
    client.force_login(cast.by_role(role))
    assert client.get(f"/{kind}s/new/").status_code == 403
    assert client.post(f"/{kind}s/new/", {"name": "x"}).status_code == 403


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
@pytest.mark.parametrize("role", ["agent", "analyst", "customer_a_admin", "customer_a_user"])
def test_who_may_see_but_not_edit_gets_403(client, cast, world, kind, role):
    client.force_login(cast.by_role(role))
    obj = obj_of(world, kind, "a")
    before = {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields}
    assert client.get(f"{obj.get_absolute_url()}edit/").status_code == 403
    assert client.post(f"{obj.get_absolute_url()}edit/", {"name": "hijack"}).status_code == 403
    obj.refresh_from_db()
    assert {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields} == before
    assert not AuditEntry.objects.for_object(obj).exists()


def test_a_manager_creates_a_site_and_lands_on_it(client, cast, world):
    client.force_login(cast.manager)
    form = client.get("/sites/new/").context["form"]
    assert list(form.fields)[:7] == [
        "name",
        "customer",
        "address",
        "city",
        "latitude",
        "longitude",
        "time_zone",
    ]

    response = client.post(
        "/sites/new/",
        {
            "name": "金桥厂区",
            "customer": cast.customer_a.pk,
            "time_zone": "Asia/Shanghai",
            "city": "上海",
        },
    )

    site = Site.objects.get(name="金桥厂区")
    assert response.status_code == 302
    assert response["Location"] == site.get_absolute_url()
    assert site.customer == cast.customer_a
    assert AuditEntry.objects.for_object(site).get().actor == cast.manager


def test_the_site_form_offers_only_customers(client, cast, world):
    client.force_login(cast.manager)
    choices = {
        pk for pk, _ in client.get("/sites/new/").context["form"].fields["customer"].choices if pk
    }
    assert {int(str(c)) for c in choices} == {cast.customer_a.pk, cast.customer_b.pk}


def test_service_errors_show_on_the_form_and_nothing_is_saved(client, cast, world):
    client.force_login(cast.dispatcher)
    response = client.post(
        "/sites/new/",
        {
            "name": world.site_a.name,
            "customer": cast.customer_a.pk,
            "time_zone": "Asia/Shanghai",
            "latitude": "95",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"name", "latitude"} <= set(form.errors)
    assert "This customer already has a site with this name." in text(response)
    assert Site.objects.filter(name=world.site_a.name).count() == 1


def test_a_dispatcher_edits_a_site(client, cast, world):
    client.force_login(cast.dispatcher)
    form = client.get(f"/sites/{world.site_a.pk}/edit/").context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(city="苏州", customer=cast.customer_a.pk, is_active="on")

    response = client.post(f"/sites/{world.site_a.pk}/edit/", data)

    assert response.status_code == 302, response.context["form"].errors
    world.site_a.refresh_from_db()
    assert world.site_a.city == "苏州"
    assert AuditEntry.objects.for_object(world.site_a).get().changes == {"city": ["上海", "苏州"]}


def test_a_manager_creates_a_project_for_a_site(client, cast, world):
    client.force_login(cast.manager)
    initial = client.get(f"/projects/new/?site={world.site_a.pk}").context["form"].initial
    assert initial == {"customer": cast.customer_a.pk, "sites": [world.site_a.pk]}

    response = client.post(
        "/projects/new/",
        {
            "code": "HD-2030",
            "name": "三期",
            "customer": cast.customer_a.pk,
            "sites": [world.site_a.pk],
        },
    )

    project = Project.objects.get(code="HD-2030")
    assert response["Location"] == project.get_absolute_url()
    assert list(project.sites.all()) == [world.site_a]


def test_a_project_form_with_another_customers_site_is_refused(client, cast, world):
    client.force_login(cast.manager)
    response = client.post(
        f"/projects/{world.project_a.pk}/edit/",
        {
            "code": "HD-2026",
            "name": "x",
            "customer": cast.customer_a.pk,
            "sites": [world.site_b.pk],
        },
    )
    assert response.status_code == 200
    assert "sites" in response.context["form"].errors
    assert list(world.project_a.sites.all()) == [world.site_a]


def test_an_engineer_registers_an_asset_and_edits_it(client, cast, world):
    client.force_login(cast.engineer)
    response = client.post(
        f"/assets/new/?site={world.site_a.pk}",
        {
            "name": "冷却塔",
            "serial": "CT-1",
            "site": world.site_a.pk,
            "model": world.chiller.pk,
            "status": "in_service",
        },
    )
    asset = Asset.objects.get(serial="CT-1")
    assert response["Location"] == asset.get_absolute_url()

    response = client.post(
        f"/assets/{asset.pk}/edit/",
        {
            "name": "冷却塔",
            "serial": "CT-1",
            "site": world.site_a.pk,
            "model": world.chiller.pk,
            "parent": world.asset_a.pk,
            "status": "faulty",
        },
    )
    asset.refresh_from_db()
    assert response.status_code == 302
    assert (asset.parent, asset.status) == (world.asset_a, "faulty")


def test_the_create_form_enforces_csrf(cast, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.manager)

    response = client.post(
        "/sites/new/",
        {"name": "CSRF 厂区", "customer": cast.customer_a.pk, "time_zone": "Asia/Shanghai"},
    )

    assert response.status_code == 403
    assert not Site.objects.filter(name="CSRF 厂区").exists()


def test_the_pages_send_a_csp_without_inline_script(client, cast, world):
    client.force_login(cast.manager)
    response = client.get("/sites/map/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    body = text(response)
    assert "<script>" not in body
    assert 'src="/static/sites/map.js"' in body
