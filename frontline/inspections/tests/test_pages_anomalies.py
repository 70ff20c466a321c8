"""The anomaly pages: the list filtered by handled / not handled, project, route and
source, with the linked work order or ticket; one anomaly with its occurrences and the
handler's actions (confirm, dismiss with a reason, mark handled, open a follow-up).
Customers read their own; another customer's are a 404; who may not handle gets 403
and nothing changes."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field.models import WorkOrder
from frontline.field.tests.factories import WorkOrderFactory
from frontline.inspections.models import Anomaly
from frontline.inspections.states import AnomalySource, AnomalyStatus
from frontline.inspections.tests import factories as fi

pytestmark = pytest.mark.django_db

LIST_MAX = 12
DETAIL_MAX = 14


def anomaly_on(route, code="P01", *, status=AnomalyStatus.OPEN, source=AnomalySource.OUT_OF_RANGE,
               **kw) -> Anomaly:  # fmt: skip
    cp = route.checkpoints.get(code=code)
    now = timezone.now()
    return Anomaly.objects.create(
        route=route, project=route.project, customer=route.project.customer, checkpoint=cp,
        item=cp.items.order_by("position").first(), source=source, status=status,
        value="18.5", raised_at=now, last_seen_at=now, **kw,
    )  # fmt: skip


@pytest.fixture
def route_a(cast):
    return fi.route(customer=cast.customer_a, points=3, anomaly_action="work_order")


@pytest.fixture
def found(route_a):
    return anomaly_on(route_a, occurrences=3)


def listed(client, **params) -> str:
    return client.get(reverse("inspections:anomaly-list"), params).content.decode()


@pytest.mark.parametrize("role", ["manager", "dispatcher", "analyst", "customer_a_user"])
def test_the_list_shows_anomalies_with_their_follow_up_in_bounded_queries(
    client, cast, route_a, django_assert_max_num_queries, role
):
    # Given three anomalies, two with a work order, one handled
    for code in ("P01", "P02"):
        anomaly_on(route_a, code, work_order=WorkOrderFactory(customer=cast.customer_a))
    anomaly_on(route_a, "P03", status=AnomalyStatus.HANDLED)
    client.force_login(cast.by_role(role))

    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(reverse("inspections:anomaly-list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="anomaly-row"') == 3
    assert body.count('data-testid="follow-up-work-order"') == 2
    assert body.count('data-handled="no"') == 2 and body.count('data-handled="yes"') == 1


def test_the_list_filters_by_handled_route_project_and_source(client, cast, route_a, found):
    handled = anomaly_on(route_a, "P02", status=AnomalyStatus.HANDLED)
    other = fi.route(customer=cast.customer_a, points=1)
    reported = anomaly_on(other, source=AnomalySource.REPORTED)
    client.force_login(cast.manager)

    def ids(**params):
        body = listed(client, **params)
        return {a.pk for a in (found, handled, reported) if f'data-anomaly-id="{a.pk}"' in body}

    assert ids(status="unhandled") == {found.pk, reported.pk}
    assert ids(status="handled") == {handled.pk}
    assert ids(route=route_a.pk) == {found.pk, handled.pk}
    assert ids(project=other.project_id) == {reported.pk}
    assert ids(source="reported") == {reported.pk}
    assert ids(status="nonsense") == set()


def test_customer_b_sees_none_of_customer_a_s_anomalies(client, cast, found):
    client.force_login(cast.customer_b_admin)

    assert 'data-testid="anomaly-row"' not in listed(client)
    assert client.get(found.get_absolute_url()).status_code == 404
    response = client.post(reverse("inspections:anomaly-confirm", args=[found.pk]))
    assert response.status_code == 404
    assert Anomaly.objects.get(pk=found.pk).status == AnomalyStatus.OPEN


def test_the_detail_shows_occurrences_and_actions_for_handlers(
    client, cast, found, django_assert_max_num_queries
):
    client.force_login(cast.dispatcher)

    with django_assert_max_num_queries(DETAIL_MAX):
        response = client.get(found.get_absolute_url())

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="occurrences">3' in body
    for form in ("confirm", "follow-up-form", "handle-form", "dismiss-form"):
        assert f'data-testid="{form}"' in body


def test_a_customer_reads_an_anomaly_without_actions(client, cast, found):
    client.force_login(cast.customer_a_admin)

    body = client.get(found.get_absolute_url()).content.decode()

    assert 'data-testid="anomaly-title"' in body
    assert 'data-testid="anomaly-actions"' not in body


def test_a_handler_confirms_then_marks_handled_with_a_resolution(client, cast, found):
    client.force_login(cast.dispatcher)

    assert client.post(reverse("inspections:anomaly-confirm", args=[found.pk])).status_code == 302
    assert Anomaly.objects.get(pk=found.pk).status == AnomalyStatus.CONFIRMED

    url = reverse("inspections:anomaly-handle", args=[found.pk])
    assert client.post(url, {"handle-resolution": ""}).status_code == 400
    assert Anomaly.objects.get(pk=found.pk).status == AnomalyStatus.CONFIRMED

    assert client.post(url, {"handle-resolution": "更换温度传感器"}).status_code == 302
    found.refresh_from_db()
    assert found.status == AnomalyStatus.HANDLED and found.resolution == "更换温度传感器"
    body = listed(client, status="handled")
    assert f'data-anomaly-id="{found.pk}"' in body


def test_a_handler_dismisses_with_a_reason(client, cast, found):
    client.force_login(cast.manager)

    response = client.post(
        reverse("inspections:anomaly-dismiss", args=[found.pk]), {"dismiss-reason": "传感器误报"}
    )

    assert response.status_code == 302
    assert Anomaly.objects.get(pk=found.pk).status == AnomalyStatus.DISMISSED


def test_a_handler_opens_a_work_order_as_the_route_says(client, cast, found):
    client.force_login(cast.dispatcher)

    response = client.post(
        reverse("inspections:anomaly-follow-up", args=[found.pk]), {"follow_up-action": ""}
    )

    assert response.status_code == 302
    found.refresh_from_db()
    assert found.work_order_id is not None
    number = WorkOrder.objects.get(pk=found.work_order_id).number
    assert number in client.get(found.get_absolute_url()).content.decode()


@pytest.mark.parametrize("role", ["engineer", "agent", "customer_a_admin"])
def test_people_who_do_not_handle_anomalies_get_403_and_nothing_changes(client, cast, found, role):
    client.force_login(cast.by_role(role))

    for verb, data in [("confirm", {}), ("dismiss", {"dismiss-reason": "x"}),
                       ("handle", {"handle-resolution": "x"}), ("follow-up", {})]:  # fmt: skip
        response = client.post(reverse(f"inspections:anomaly-{verb}", args=[found.pk]), data)
        assert response.status_code == 403, verb

    found.refresh_from_db()
    assert found.status == AnomalyStatus.OPEN and found.work_order_id is None
