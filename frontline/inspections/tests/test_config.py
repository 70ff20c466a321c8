"""Route configuration services: validation, scoping, ordering, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from frontline.core.errors import NotFound, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.inspections import config, sops
from frontline.inspections.models import CheckItem, Checkpoint, PointVisit, Route, SopVersion
from frontline.inspections.states import ItemKind, RoundStatus, ScheduleKind
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def project_a(cast):
    return f.ProjectFactory(customer=cast.customer_a)


@pytest.fixture
def site_a(cast):
    return f.SiteFactory(customer=cast.customer_a)


def test_manager_creates_a_route_and_it_is_audited(cast, project_a, site_a):
    route = config.create_route(
        actor=cast.manager, project=project_a, site=site_a, code="CEA", name=" 冷站 "
    )
    assert route.name == "冷站" and route.is_active
    assert AuditEntry.objects.filter(object_id=str(route.pk), action="create").exists()


@pytest.mark.parametrize("role", ["dispatcher", "engineer", "analyst", "customer_a_admin"])
def test_who_may_not_manage_routes_changes_nothing(cast, project_a, site_a, role):
    with pytest.raises(PermissionDenied):
        config.create_route(
            actor=cast.by_role(role), project=project_a, site=site_a, code="CEA", name="x"
        )
    assert not Route.objects.exists()


def test_site_of_another_customer_is_refused(cast, project_a):
    other = f.SiteFactory(customer=cast.customer_b)
    with pytest.raises(ValidationFailed) as exc:
        config.create_route(actor=cast.admin, project=project_a, site=other, code="C", name="x")
    assert "site" in exc.value.fields
    assert not Route.objects.exists()


def test_site_outside_the_projects_listed_sites_is_refused(cast, project_a, site_a):
    listed = f.SiteFactory(customer=cast.customer_a)
    project_a.sites.add(listed)
    with pytest.raises(ValidationFailed) as exc:
        config.create_route(actor=cast.admin, project=project_a, site=site_a, code="C", name="x")
    assert "site" in exc.value.fields
    route = config.create_route(
        actor=cast.admin, project=project_a, site=listed, code="C", name="x"
    )
    assert route.site == listed


def test_route_code_is_unique_per_project(cast, project_a, site_a):
    config.create_route(actor=cast.admin, project=project_a, site=site_a, code="CEA", name="a")
    with pytest.raises(ValidationFailed) as exc:
        config.create_route(actor=cast.admin, project=project_a, site=site_a, code="cea", name="b")
    assert "code" in exc.value.fields
    other = f.ProjectFactory(customer=cast.customer_a)
    config.create_route(actor=cast.admin, project=other, site=site_a, code="CEA", name="c")


def test_update_without_changes_writes_no_audit(cast):
    route = fi.route(customer=cast.customer_a, points=0)
    config.update_route(actor=cast.admin, route=route, name=route.name)
    assert not AuditEntry.objects.filter(object_id=str(route.pk)).exists()
    config.archive_route(actor=cast.admin, route=route)
    route.refresh_from_db()
    assert route.is_active is False


def test_unknown_update_field_is_refused(cast):
    route = fi.route(customer=cast.customer_a, points=0)
    with pytest.raises(ValidationFailed) as exc:
        config.update_route(actor=cast.admin, route=route, created_at=None)
    assert "created_at" in exc.value.fields


def test_checkpoint_asset_must_be_at_the_routes_site(cast):
    route = fi.route(customer=cast.customer_a, points=0)
    elsewhere = f.AssetFactory(site=f.SiteFactory(customer=cast.customer_a))
    with pytest.raises(ValidationFailed) as exc:
        config.add_checkpoint(actor=cast.admin, route=route, code="P1", name="x", asset=elsewhere)
    assert "asset" in exc.value.fields
    here = f.AssetFactory(site=route.site)
    cp = config.add_checkpoint(actor=cast.admin, route=route, code="P1", name="x", asset=here)
    assert cp.asset == here and cp.position == 1 and cp.qr_value.startswith("FLQR-")


def test_checkpoint_code_unique_per_route(cast):
    route = fi.route(customer=cast.customer_a, points=1)
    with pytest.raises(ValidationFailed) as exc:
        config.add_checkpoint(actor=cast.admin, route=route, code="p01", name="dup")
    assert "code" in exc.value.fields


def test_move_checkpoint_renumbers(cast):
    route = fi.route(customer=cast.customer_a, points=4, items=())
    last = route.checkpoints.get(code="P04")
    config.move_checkpoint(actor=cast.admin, checkpoint=last, position=1)
    codes = list(route.checkpoints.order_by("position").values_list("code", "position"))
    assert codes == [("P04", 1), ("P01", 2), ("P02", 3), ("P03", 4)]
    config.move_checkpoint(actor=cast.admin, checkpoint=last, position=99)
    assert route.checkpoints.get(code="P04").position == 4


def test_remove_checkpoint_erases_or_retires(cast):
    route = fi.route(customer=cast.customer_a, points=3)
    first = route.checkpoints.get(code="P01")
    assert config.remove_checkpoint(actor=cast.admin, checkpoint=first) is True
    assert list(route.checkpoints.values_list("code", "position")) == [("P02", 1), ("P03", 2)]
    visited = route.checkpoints.get(code="P02")
    rnd = fi.round_for(route, cast.engineer, status=RoundStatus.IN_PROGRESS)
    PointVisit.objects.create(
        round=rnd, checkpoint=visited, by=cast.engineer, recorded_at=rnd.window_start
    )
    assert config.remove_checkpoint(actor=cast.admin, checkpoint=visited) is False
    visited.refresh_from_db()
    assert visited.is_active is False


def test_customer_b_cannot_touch_customer_a_checkpoint_even_as_staff_lookup(cast):
    route = fi.route(customer=cast.customer_a, points=1)
    cp = route.checkpoints.get()
    with pytest.raises(PermissionDenied):
        config.update_checkpoint(actor=cast.customer_b_admin, checkpoint=cp, name="x")
    cp.refresh_from_db()
    assert cp.name != "x"


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"kind": ItemKind.NUMBER, "normal_min": Decimal("9"), "normal_max": Decimal("1")},
         "normal_max"),
        ({"kind": ItemKind.CHOICE}, "choices"),
        ({"kind": ItemKind.CHOICE, "choices": ["正常", "异响"], "abnormal_choices": ["漏水"]},
         "abnormal_choices"),
        ({"kind": ItemKind.YES_NO, "normal_min": Decimal("1")}, "normal_min"),
        ({"kind": ItemKind.TEXT, "choices": ["a"]}, "choices"),
        ({"kind": "nonsense"}, "kind"),
    ],
)  # fmt: skip
def test_check_item_validation(cast, kw, field):
    cp = fi.route(customer=cast.customer_a, points=1, items=()).checkpoints.get()
    with pytest.raises(ValidationFailed) as exc:
        config.add_check_item(actor=cast.admin, checkpoint=cp, name="项", **kw)
    assert field in exc.value.fields
    assert not CheckItem.objects.exists()


def test_choice_item_and_update(cast):
    cp = fi.route(customer=cast.customer_a, points=1, items=()).checkpoints.get()
    item = config.add_check_item(
        actor=cast.admin,
        checkpoint=cp,
        name="声音",
        kind=ItemKind.CHOICE,
        choices=["正常", "异响"],
        abnormal_choices=["异响"],
    )
    assert item.position == 1
    config.update_check_item(actor=cast.admin, item=item, abnormal_choices=[])
    item.refresh_from_db()
    assert item.abnormal_choices == []
    with pytest.raises(ValidationFailed):
        config.update_check_item(actor=cast.admin, item=item, choices=[])


def test_number_item_update_same_value_is_noop(cast):
    route = fi.route(customer=cast.customer_a, points=1)
    item = CheckItem.objects.filter(kind=ItemKind.NUMBER).first()
    before = AuditEntry.objects.count()
    config.update_check_item(actor=cast.admin, item=item, normal_min="5", normal_max="12.0")
    assert AuditEntry.objects.count() == before
    assert route.pk


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"kind": ScheduleKind.DAILY}, "times"),
        ({"kind": ScheduleKind.DAILY, "times": ["25:00"]}, "times"),
        ({"kind": ScheduleKind.WEEKLY, "times": ["08:00"]}, "weekdays"),
        ({"kind": ScheduleKind.WEEKLY, "times": ["08:00"], "weekdays": [7]}, "weekdays"),
        ({"kind": ScheduleKind.EVERY_N_HOURS}, "every_hours"),
        ({"kind": ScheduleKind.EVERY_N_HOURS, "every_hours": 1, "window_minutes": 120},
         "window_minutes"),
        ({"kind": ScheduleKind.DAILY, "times": ["08:00"], "offer_for_grab": True}, "team"),
        ({"kind": ScheduleKind.DAILY, "times": ["08:00"], "ends_on": dt.date(2000, 1, 1)},
         "ends_on"),
    ],
)  # fmt: skip
def test_schedule_validation(cast, kw, field):
    route = fi.route(customer=cast.customer_a, points=1)
    with pytest.raises(ValidationFailed) as exc:
        config.create_schedule(actor=cast.admin, route=route, **kw)
    assert field in exc.value.fields
    assert not route.schedules.exists()


def test_schedule_created_with_engineer_and_updated(cast):
    route = fi.route(customer=cast.customer_a, points=1)
    schedule = config.create_schedule(
        actor=cast.manager,
        route=route,
        kind=ScheduleKind.WEEKLY,
        times=["20:00", "08:00"],
        weekdays=[4, 0, 0],
        engineer=cast.engineer,
    )
    assert schedule.times == ["08:00", "20:00"] and schedule.weekdays == [0, 4]
    with pytest.raises(ValidationFailed):
        config.update_schedule(actor=cast.manager, schedule=schedule, engineer=cast.agent)
    team = f.TeamFactory()
    config.update_schedule(
        actor=cast.manager, schedule=schedule, engineer=None, team=team, offer_for_grab=True
    )
    schedule.refresh_from_db()
    assert schedule.offer_for_grab and schedule.team == team


def test_sop_versions_with_kpis_and_route_activation(cast):
    sop = sops.create_sop(actor=cast.admin, code="SOP-CH", title="冷站巡检规程")
    v1 = sops.publish_sop_version(
        actor=cast.admin,
        sop=sop,
        body='<p onclick="x()">步骤</p><script>alert(1)</script>',
        kpis=[
            {"kind": "result", "metric": "quality_avg", "comparator": "gte", "target": "80"},
            {"kind": "process", "metric": "duration_cv", "comparator": "lte", "target": "0.3"},
        ],
    )
    v2 = sops.publish_sop_version(actor=cast.admin, sop=sop)
    assert (v1.number, v2.number) == (1, 2)
    assert "script" not in v1.body and "onclick" not in v1.body
    assert [k.target for k in v1.kpis.all()] == [Decimal("80"), Decimal("0.3")]
    route = fi.route(customer=cast.customer_a, points=0)
    config.set_route_sop(actor=cast.admin, route=route, sop_version=v1)
    route.refresh_from_db()
    assert route.sop_version == v1


def test_bad_kpi_publishes_nothing(cast):
    sop = sops.create_sop(actor=cast.admin, code="SOP-X", title="x")
    with pytest.raises(ValidationFailed) as exc:
        sops.publish_sop_version(
            actor=cast.admin, sop=sop, kpis=[{"metric": "bogus", "comparator": "gt", "target": 1}]
        )
    assert "kpis.0.metric" in exc.value.fields and "kpis.0.comparator" in exc.value.fields
    assert not SopVersion.objects.exists()


def test_work_order_sop_cannot_drive_a_route(cast):
    sop = sops.create_sop(actor=cast.admin, code="SOP-WO", title="维修", work_order_type="repair")
    version = sops.publish_sop_version(actor=cast.admin, sop=sop)
    route = fi.route(customer=cast.customer_a, points=0)
    with pytest.raises(ValidationFailed) as exc:
        config.set_route_sop(actor=cast.admin, route=route, sop_version=version)
    assert "sop_version" in exc.value.fields


def test_quality_scheme_weights(cast):
    scheme = sops.create_quality_scheme(actor=cast.admin, name="严格", standard=90)
    assert scheme.total_weight == 100
    with pytest.raises(ValidationFailed):
        sops.update_quality_scheme(
            actor=cast.admin, scheme=scheme, coverage_weight=0, timeliness_weight=0,
            anomalies_weight=0, pace_weight=0, photos_weight=0,
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        sops.create_quality_scheme(actor=cast.admin, name="严格")


def test_missing_route_is_not_found(cast):
    route = fi.route(customer=cast.customer_a, points=0)
    Route.objects.filter(pk=route.pk).delete()
    with pytest.raises(NotFound):
        config.update_route(actor=cast.admin, route=route, name="x")
    assert not Checkpoint.objects.exists()
