"""The field-service report: numbers from real work, scoped, as page, Excel and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.field import links, services
from frontline.field.models import PublicLink
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def _done(cast, eng, *, csat=None, nps=None, revisit_of=None):
    site = f.SiteFactory(customer=cast.customer_a)
    wo = services.create_work_order(actor=cast.dispatcher, title="保养", site=site,
                                    revisit_of=revisit_of)  # fmt: skip
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.check_in(actor=eng, work_order=wo, latitude="31.2034", longitude="121.587")
    services.complete(actor=eng, work_order=wo, resolution_code="fixed")
    services.close(actor=cast.dispatcher, work_order=wo)
    if csat is not None:
        token = links.issue(wo, PublicLink.Purpose.SURVEY, days=1)
        services.submit_survey(token=token, csat=csat, nps=nps)
    return wo


def test_report_counts_first_time_fix_csat_and_nps(cast, client):
    eng = engineer(user=cast.engineer)
    first = _done(cast, eng, csat=5, nps=10)
    _done(cast, eng, csat=2, nps=3, revisit_of=first)
    _done(cast, eng, csat=4, nps=8)
    client.force_login(cast.manager)
    page = client.get(reverse("field:report"))
    assert page.status_code == 200
    report = page.context["report"]
    assert report.totals.completed == 3
    assert report.totals.first_time_fix_rate == pytest.approx(66.7)
    assert report.totals.csat == pytest.approx(3.67)
    assert report.totals.nps == pytest.approx(0.0)  # one promoter, one detractor, one passive
    assert [r.completed for r in report.engineers] == [3]
    xlsx = client.get(reverse("field:report-xlsx"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


@pytest.mark.parametrize("who", ["engineer", "customer_a_admin", "partner_admin", "outsider"])
def test_report_is_for_dispatchers_and_managers(cast, client, api, who):
    client.force_login(cast.by_role(who))
    assert client.get(reverse("field:report")).status_code == 403
    assert api.as_user(cast.by_role(who)).get("/api/v1/reports/field-service/").status_code == 403


def test_report_api_validates_the_period(cast, api):
    client = api.as_user(cast.dispatcher)
    ok = client.get("/api/v1/reports/field-service/?start=2026-11-01&end=2026-11-20")
    assert ok.status_code == 200 and ok.json()["totals"]["completed"] == 0
    for query in ["start=2026-13-01", "start=2026-11-20&end=2026-11-01", "start=2020-01-01", "x=1"]:
        assert client.get(f"/api/v1/reports/field-service/?{query}").status_code == 400


def test_report_query_count_does_not_grow_with_engineers(
    cast, client, django_assert_max_num_queries
):
    for _ in range(4):
        _done(cast, engineer(), csat=4, nps=9)
    client.force_login(cast.manager)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("field:report")).status_code == 200
