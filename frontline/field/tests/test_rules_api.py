"""/api/v1/dispatch-rules/: CRUD for admins, preview for field staff, nothing for others."""

from __future__ import annotations

import pytest

from frontline.core.models import AuditEntry
from frontline.field.models import DispatchRule
from frontline.field.states import RuleMode
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order, rule
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/dispatch-rules/"


def test_an_admin_creates_a_rule_at_the_end_and_it_is_audited(api, cast):
    rule(name="已有", position=10)
    team = f.TeamFactory()
    eng = engineer(user=cast.engineer)
    response = api.as_user(cast.admin).post(
        URL,
        {"name": "华东专线", "customer": cast.customer_a.pk, "team": team.pk,
         "engineers": [eng.pk], "mode": "grab"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    made = DispatchRule.objects.get(pk=response.json()["id"])
    assert made.position == 20 and list(made.engineers.all()) == [eng]
    entry = AuditEntry.objects.get(object_id=str(made.pk), action="create")
    assert entry.changes["name"] == [None, "华东专线"]


def test_invalid_targets_are_400_with_fields(api, cast):
    response = api.as_user(cast.admin).post(
        URL,
        {"name": "坏目标", "partner": cast.customer_a.pk, "engineers": [cast.dispatcher.pk],
         "mode": "assign"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"partner", "engineers"}
    assert not DispatchRule.objects.exists()


def test_update_move_and_delete(api, cast):
    a, b = rule(name="a", position=10), rule(name="b", position=20)
    client = api.as_user(cast.manager)
    assert client.patch(f"{URL}{a.pk}/", {"region": "苏州"}, format="json").status_code == 200
    response = client.post(f"{URL}{b.pk}/move/", {"direction": "up"}, format="json")
    assert response.status_code == 200 and response.json()["position"] == 10
    assert [r["name"] for r in client.get(URL).json()["results"]] == ["b", "a"]
    response = client.post(f"{URL}reorder/", {"rules": [a.pk, b.pk]}, format="json")
    assert [r["name"] for r in response.json()] == ["a", "b"]
    assert client.delete(f"{URL}{a.pk}/").status_code == 204
    assert list(DispatchRule.objects.values_list("name", flat=True)) == ["b"]
    assert AuditEntry.objects.filter(object_id=str(a.pk), action="delete").exists()


@pytest.mark.parametrize("role", ["dispatcher", "engineer", "agent"])
def test_staff_without_the_capability_read_but_get_403_on_writes(api, cast, role):
    made = rule(name="keep", region="上海")
    client = api.as_user(cast.by_role(role))
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"name": "x", "mode": "assign"}, format="json").status_code == 403
    assert client.patch(f"{URL}{made.pk}/", {"name": "y"}, format="json").status_code == 403
    assert client.post(f"{URL}{made.pk}/move/", {"direction": "up"}).status_code == 403
    assert client.delete(f"{URL}{made.pk}/").status_code == 403
    assert client.post(f"{URL}reorder/", {"rules": [made.pk]}, format="json").status_code == 403
    made.refresh_from_db()
    assert made.name == "keep" and DispatchRule.objects.count() == 1
    assert not AuditEntry.objects.filter(object_id=str(made.pk)).exists()


@pytest.mark.parametrize("role", ["customer_a_admin", "partner_admin", "outsider"])
def test_outsiders_see_no_rules(api, cast, role):
    made = rule(name="secret")
    client = api.as_user(cast.by_role(role))
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{made.pk}/").status_code == 404
    assert client.post(URL, {"name": "x", "mode": "assign"}, format="json").status_code == 403
    assert client.delete(f"{URL}{made.pk}/").status_code in (403, 404)
    wo = queue_order(site=f.SiteFactory(customer=cast.customer_a))
    response = client.post(f"{URL}preview/", {"work_order": wo.pk}, format="json")
    assert response.status_code == 404
    assert DispatchRule.objects.count() == 1


def test_preview_says_which_rule_and_why(api, cast):
    wo = queue_order(site=f.SiteFactory(customer=cast.customer_a))
    rule(name="云谷", customer=cast.customer_b)
    chosen = rule(name="华东", customer=cast.customer_a, mode=RuleMode.OPTIMISE)
    response = api.as_user(cast.dispatcher).post(
        f"{URL}preview/", {"work_order": wo.pk}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["rule"] == {"id": chosen.pk, "name": "华东"} and body["mode"] == "optimise"
    first = body["explanation"][0]
    assert first["matched"] is False
    assert first["checks"][0]["text"] == "customer 华东生物制药 ≠ 云谷数据中心"


def test_preview_of_an_unknown_order_is_400(api, cast):
    response = api.as_user(cast.dispatcher).post(
        f"{URL}preview/", {"work_order": 999999}, format="json"
    )
    assert response.status_code == 400 and "work_order" in response.json()["fields"]


def test_list_query_count_is_bounded(api, cast, django_assert_max_num_queries):
    team = f.TeamFactory()
    for n in range(15):
        rule(name=f"r{n}", team=team, customer=cast.customer_a,
             engineers=[engineer()], skill=f.SkillFactory())  # fmt: skip
    client = api.as_user(cast.dispatcher)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.json()["count"] == 15
