"""Dispatch rule pages: the ordered list, the form, moving, and the preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.core.models import AuditEntry
from frontline.field.models import DispatchRule
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order, rule
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
LIST = reverse("field:rule-list")
NEW = reverse("field:rule-create")
PREVIEW = reverse("field:rule-preview")


def test_the_list_shows_rules_in_order_within_bounded_queries(
    client, cast, django_assert_max_num_queries
):
    team = f.TeamFactory()
    for n in range(12):
        rule(name=f"规则{n}", team=team, customer=cast.customer_a, skill=f.SkillFactory(),
             engineers=[engineer()], position=100 - n)  # fmt: skip
    client.force_login(cast.manager)
    with django_assert_max_num_queries(14):
        response = client.get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("规则11") < body.index("规则0")
    assert 'data-testid="rule-up"' in body


def test_a_manager_creates_a_rule_on_the_page(client, cast):
    team = f.TeamFactory()
    client.force_login(cast.manager)
    response = client.post(
        NEW, {"name": "苏州高压", "region": "苏州", "team": team.pk, "mode": "grab",
              "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == LIST
    made = DispatchRule.objects.get()
    assert (made.name, made.region, made.team, made.mode) == ("苏州高压", "苏州", team, "grab")
    assert AuditEntry.objects.filter(object_id=str(made.pk), action="create").exists()


def test_the_form_shows_the_service_errors(client, cast):
    client.force_login(cast.admin)
    response = client.post(NEW, {"name": "x", "partner": cast.customer_a.pk, "mode": "assign"})
    assert response.status_code == 200
    assert not DispatchRule.objects.exists()


def test_move_up_and_edit(client, cast):
    a, b = rule(name="a", position=10), rule(name="b", position=20)
    client.force_login(cast.admin)
    response = client.post(reverse("field:rule-move", args=[b.pk]), {"direction": "up"})
    assert response.status_code == 302
    assert list(DispatchRule.objects.order_by("position").values_list("name", flat=True)) == [
        "b",
        "a",
    ]
    response = client.post(
        reverse("field:rule-edit", args=[a.pk]), {"name": "a2", "mode": "optimise"}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.name, a.mode, a.is_active) == ("a2", "optimise", False)


def test_a_dispatcher_reads_but_may_not_change(client, cast):
    made = rule(name="keep", position=10)
    rule(name="second", position=20)
    client.force_login(cast.dispatcher)
    assert client.get(LIST).status_code == 200
    assert "rule-up" not in client.get(LIST).content.decode()
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"name": "x", "mode": "assign"}).status_code == 403
    assert (
        client.post(reverse("field:rule-move", args=[made.pk]), {"direction": "down"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("field:rule-edit", args=[made.pk]), {"name": "y", "mode": "grab"}
        ).status_code
        == 403
    )
    assert client.post(reverse("field:rule-delete", args=[made.pk])).status_code == 403
    made.refresh_from_db()
    assert (made.name, made.position) == ("keep", 10)
    assert DispatchRule.objects.count() == 2


@pytest.mark.parametrize("role", ["customer_a_admin", "partner_admin", "outsider"])
def test_outsiders_get_404(client, cast, role):
    made = rule(name="keep")
    client.force_login(cast.by_role(role))
    for url in (LIST, NEW, PREVIEW, reverse("field:rule-edit", args=[made.pk])):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("field:rule-move", args=[made.pk]), {"direction": "up"}).status_code
        == 404
    )
    made.refresh_from_db()
    assert made.name == "keep"


def test_the_preview_page_explains_the_decision(client, cast, django_assert_max_num_queries):
    wo = queue_order(site=f.SiteFactory(customer=cast.customer_a), number="W-PV0001")
    rule(name="云谷专线", customer=cast.customer_b)
    rule(name="华东", customer=cast.customer_a, mode="grab")
    client.force_login(cast.dispatcher)
    with django_assert_max_num_queries(14):
        response = client.get(PREVIEW, {"work_order": "W-PV0001"})
    body = response.content.decode()
    assert "Rule “华东” takes this order: Offer to engineers." in body
    assert "customer 华东生物制药 ≠ 云谷数据中心" in body
    assert client.get(PREVIEW, {"work_order": str(wo.pk)}).status_code == 200
    assert "No such work order." in client.get(PREVIEW, {"work_order": "nope"}).content.decode()


def test_hostile_names_are_escaped_in_the_preview(client, cast):
    evil = '"><script>alert(1)</script>'
    queue_order(site=f.SiteFactory(customer=cast.customer_a, name=evil), number="W-PV0002")
    rule(name=evil, region=evil)
    client.force_login(cast.dispatcher)
    body = client.get(PREVIEW, {"work_order": "W-PV0002"}).content.decode()
    assert "<script>alert(1)" not in body


def test_an_admin_deletes_a_rule_after_confirming(client, cast):
    made = rule(name="旧规则")
    client.force_login(cast.admin)
    url = reverse("field:rule-delete", args=[made.pk])
    page = client.get(url).content.decode()
    assert "旧规则" in page and reverse("field:rule-edit", args=[made.pk]) in page
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == LIST
    assert not DispatchRule.objects.exists()
    assert AuditEntry.objects.filter(object_id=str(made.pk), action="delete").exists()
