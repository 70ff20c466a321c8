"""Fire levels: the defaults, reading them (customers: names only), changing them (desk admins)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from frontline.accounts.roles import Role
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.desk import fire
from frontline.desk.models import SeverityLevel
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

URL = "/api/v1/severity-levels/"


def level(code):
    return SeverityLevel.objects.get(severity=code)


# ---------------------------------------------------------------- defaults


def test_default_levels_are_created_once_and_never_overwrite_edits(cast):
    fire.ensure_default_levels()
    s1 = level("S1")
    assert s1.name == "导弹 / missile"
    assert set(s1.summon_roles) == {Role.ADMIN, Role.MANAGER, Role.DISPATCHER, Role.ENGINEER}
    assert level("S4").name == "枪 / rifle" and level("S4").summon_roles == [Role.AGENT]
    assert set(level("S3").summon_roles) == {Role.DISPATCHER, Role.AGENT}

    SeverityLevel.objects.filter(severity="S1").update(name="核弹")
    SeverityLevel.objects.filter(severity="S4").delete()
    fire.ensure_default_levels()
    assert SeverityLevel.objects.count() == 4
    assert level("S1").name == "核弹" and level("S4").name == "枪 / rifle"


def test_the_defaults_cost_one_query_once_they_exist(cast, django_assert_num_queries):
    fire.ensure_default_levels()
    with django_assert_num_queries(1):
        fire.ensure_default_levels()


def test_listing_creates_the_defaults_lazily(api, cast):
    assert not SeverityLevel.objects.exists()
    data = api.as_user(cast.agent).get(URL).json()
    assert [r["severity"] for r in data["results"]] == ["S1", "S2", "S3", "S4"]


# ---------------------------------------------------------------- reading


def test_staff_see_who_is_summoned(api, cast):
    data = api.as_user(cast.analyst).get(URL).json()["results"][0]
    assert {"summon_roles", "summon_teams", "summon_users", "customer_may_choose"} <= set(data)


@pytest.mark.parametrize("role", ["customer_a_user", "customer_b_admin", "partner_engineer"])
def test_customers_see_names_and_descriptions_only(api, cast, role):
    client = api.as_user(cast.by_role(role))
    data = client.get(URL).json()["results"]
    assert data[0] == {
        "id": level("S1").pk,
        "severity": "S1",
        "name": "导弹 / missile",
        "description": level("S1").description,
    }
    detail = client.get(f"{URL}{level('S2').pk}/").json()
    assert set(detail) == {"id", "severity", "name", "description"}


def test_anonymous_callers_are_refused(api):
    assert api.get(URL).status_code in {401, 403}


def test_the_list_query_count_is_fixed(api, cast, django_assert_max_num_queries):
    fire.ensure_default_levels()
    team = f.TeamFactory()
    for row in SeverityLevel.objects.all():
        row.summon_teams.set([team])
        row.summon_users.set([cast.admin, cast.engineer])
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(7):
        response = client.get(URL)
    assert response.status_code == 200


# ---------------------------------------------------------------- changing


def test_a_desk_admin_changes_who_a_level_summons(api, cast):
    fire.ensure_default_levels()
    team = f.TeamFactory(name="冷站专家组")
    team.members.set([cast.analyst])
    s2 = level("S2")
    response = api.as_user(cast.admin).patch(
        f"{URL}{s2.pk}/",
        {
            "name": "重炮 / heavy artillery",
            "summon_roles": [Role.MANAGER],
            "summon_teams": [team.pk],
            "summon_users": [cast.agent.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["summon_teams"] == [team.pk]
    assert sorted(u.pk for u in fire.summoned_users("S2")) == sorted(
        [cast.manager.pk, cast.analyst.pk, cast.agent.pk]
    )
    entry = AuditEntry.objects.get(object_id=str(s2.pk))
    assert entry.changes["name"] == ["炮 / artillery", "重炮 / heavy artillery"]
    assert "summon_teams" in entry.changes


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"summon_roles": [Role.CUSTOMER_ADMIN]}, "summon_roles"),
        ({"summon_roles": "admin"}, "summon_roles"),
        ({"name": ""}, "name"),
        ({"severity": "S9"}, "severity"),
        ({"owner": 1}, "owner"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(api, cast, payload, field):
    fire.ensure_default_levels()
    s3 = level("S3")
    response = api.as_user(cast.admin).patch(f"{URL}{s3.pk}/", payload, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]
    s3.refresh_from_db()
    assert s3.name == "机枪 / machine gun" and set(s3.summon_roles) == {"dispatcher", "agent"}


def test_customers_and_partners_cannot_be_summoned_by_name(api, cast):
    fire.ensure_default_levels()
    s1 = level("S1")
    response = api.as_user(cast.admin).patch(
        f"{URL}{s1.pk}/", {"summon_users": [cast.customer_a_user.pk]}, format="json"
    )
    assert response.status_code == 400 and "summon_users" in response.json()["fields"]
    partner_team = f.TeamFactory(organization=cast.partner, name="网点组")
    response = api.as_user(cast.admin).patch(
        f"{URL}{s1.pk}/", {"summon_teams": [partner_team.pk]}, format="json"
    )
    assert response.status_code == 400
    assert not s1.summon_users.exists() and not s1.summon_teams.exists()


@pytest.mark.parametrize("role", ["manager", "agent", "customer_a_admin"])
def test_only_desk_admins_change_levels(api, cast, role):
    fire.ensure_default_levels()
    s1 = level("S1")
    response = api.as_user(cast.by_role(role)).patch(f"{URL}{s1.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert level("S1").name == "导弹 / missile"
    with pytest.raises(PermissionDenied):
        fire.update_severity_level(actor=cast.by_role(role), level=s1, name="x")


def test_levels_cannot_be_created_or_deleted_through_the_api(api, cast):
    fire.ensure_default_levels()
    client = api.as_user(cast.admin)
    assert client.post(URL, {"severity": "S1", "name": "x"}, format="json").status_code == 405
    assert client.delete(f"{URL}{level('S1').pk}/").status_code == 405


def test_the_service_rejects_unknown_fields(cast):
    fire.ensure_default_levels()
    with pytest.raises(ValidationFailed):
        fire.update_severity_level(actor=cast.admin, level=level("S1"), severity="S4")


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("role", ["admin", "manager", "agent", "analyst"])
def test_staff_see_the_levels_page(client, cast, role):
    client.force_login(cast.by_role(role))
    response = client.get(reverse("desk:severity-level-list"))
    body = response.content.decode()
    assert response.status_code == 200 and "S1 导弹 / missile" in body
    assert ('data-testid="edit-level"' in body) == (role == "admin")


@pytest.mark.parametrize("role", ["customer_a_user", "partner_admin", "outsider"])
def test_the_levels_pages_do_not_exist_for_others(client, cast, role):
    fire.ensure_default_levels()
    client.force_login(cast.by_role(role))
    assert client.get(reverse("desk:severity-level-list")).status_code == 404
    edit = reverse("desk:severity-level-edit", args=[level("S1").pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"name": "x"}).status_code == 404


def test_a_manager_gets_403_on_the_edit_page(client, cast):
    fire.ensure_default_levels()
    client.force_login(cast.manager)
    edit = reverse("desk:severity-level-edit", args=[level("S1").pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"name": "x"}).status_code == 403
    assert level("S1").name == "导弹 / missile"


def test_an_admin_edits_a_level_on_the_page(client, cast):
    fire.ensure_default_levels()
    s4 = level("S4")
    edit = reverse("desk:severity-level-edit", args=[s4.pk])
    client.force_login(cast.admin)
    page = client.get(edit).content.decode()
    # operator roles only, operator people only
    assert 'value="engineer"' in page and 'value="customer_user"' not in page
    assert cast.customer_a_user.email not in page
    response = client.post(
        edit,
        {
            "name": "步枪 / rifle",
            "description": "咨询",
            "summon_roles": ["agent", "quality_analyst"],
            "summon_users": [cast.engineer.pk],
            "customer_may_choose": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "desk:severity-level-list"
    )
    s4.refresh_from_db()
    assert s4.name == "步枪 / rifle"
    assert set(s4.summon_roles) == {"agent", "quality_analyst"}
    assert list(s4.summon_users.all()) == [cast.engineer]


def test_the_edit_page_shows_errors_and_needs_csrf(client, cast):
    fire.ensure_default_levels()
    edit = reverse("desk:severity-level-edit", args=[level("S1").pk])
    client.force_login(cast.admin)
    response = client.post(edit, {"name": "", "summon_users": [cast.customer_a_user.pk]})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.admin)
    assert strict.post(edit, {"name": "x"}).status_code == 403
    assert level("S1").name == "导弹 / missile"
