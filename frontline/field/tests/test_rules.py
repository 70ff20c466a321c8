"""Dispatch rules: which rule takes a work order, why, and what routing it then does."""

from __future__ import annotations

import pytest

from frontline.accounts.models import DispatchMode
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.desk.states import Channel
from frontline.desk.tests.factories import TicketFactory
from frontline.field import rules
from frontline.field.models import GrabOffer, WorkOrder
from frontline.field.states import Priority, RuleMode, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order, rule
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def _order(cast, **kw):
    site = kw.pop("site", None) or f.SiteFactory(customer=cast.customer_a, city="上海")
    return rules.load_order(queue_order(site=site, customer=site.customer, **kw).pk)


def test_the_first_matching_rule_by_position_takes_the_order(cast):
    # Given two rules that both match, and an earlier one that does not
    wo = _order(cast)
    rule(name="云谷专线", customer=cast.customer_b, position=10)
    first = rule(name="华东优先", customer=cast.customer_a, position=20)
    rule(name="兜底", position=30)

    # When the rules are matched
    chosen, verdicts = rules.match(wo)

    # Then the first matching one wins, and every rule has its verdict in order
    assert chosen == first
    assert [v.rule.name for v in verdicts] == ["云谷专线", "华东优先", "兜底"]
    assert [v.matched for v in verdicts] == [False, True, True]
    assert [v.chosen for v in verdicts] == [False, True, False]
    assert verdicts[0].checks[0].text == "customer 华东生物制药 ≠ 云谷数据中心"
    assert verdicts[1].checks[0].text == "customer 华东生物制药 = 华东生物制药"
    assert verdicts[2].checks[0].text == "no conditions: takes every order"


def test_inactive_rules_are_skipped(cast):
    wo = _order(cast)
    rule(name="停用", customer=cast.customer_a, is_active=False, position=10)
    live = rule(name="启用", position=20)
    chosen, verdicts = rules.match(wo)
    assert chosen == live
    assert [v.rule.name for v in verdicts] == ["启用"]


def test_no_rule_means_no_match(cast):
    wo = _order(cast)
    rule(name="只要紧急", priority=Priority.URGENT)
    chosen, verdicts = rules.match(wo)
    assert chosen is None
    assert verdicts[0].checks[0].text == "priority Normal ≠ Urgent"


@pytest.mark.parametrize("holds", [True, False])
def test_every_condition_kind(cast, holds):
    # Given an order of customer A with a project, site, asset, skill and ticket channel
    skill, other_skill = f.SkillFactory(code="hvac", name="暖通"), f.SkillFactory(name="高压")
    site = f.SiteFactory(customer=cast.customer_a, city="苏州")
    project = f.ProjectFactory(customer=cast.customer_a)
    asset = f.AssetFactory(site=site)
    ticket = TicketFactory(customer=cast.customer_a, channel=Channel.IOT)
    wo = _order(cast, site=site, project=project, asset=asset, ticket=ticket,
                priority=Priority.HIGH, skills={skill: 2})  # fmt: skip
    other_site = f.SiteFactory(customer=cast.customer_a)
    conditions = {
        "customer": cast.customer_a if holds else cast.customer_b,
        "project": project if holds else f.ProjectFactory(customer=cast.customer_a),
        "site": site if holds else other_site,
        "region": " 苏州 " if holds else "上海",
        "asset_model": asset.model if holds else f.AssetModelFactory(),
        "skill": skill if holds else other_skill,
        "channel": Channel.IOT if holds else Channel.EMAIL,
        "priority": Priority.HIGH if holds else Priority.LOW,
    }
    for name, value in conditions.items():
        # When a rule sets only this condition
        made = rule(name=name, **{name: value})
        chosen, verdicts = rules.match(wo, rules.active_rules())
        verdict = next(v for v in verdicts if v.rule == made)
        # Then it holds (or fails) with a sentence that says why
        assert verdict.matched is holds, name
        assert [c.condition for c in verdict.checks] == [name]
        assert ("≠" not in verdict.checks[0].text and "not" not in verdict.checks[0].text) is holds
        made.delete()


def test_explanations_name_what_differs(cast):
    skill, other = f.SkillFactory(name="暖通"), f.SkillFactory(name="高压")
    wo = _order(cast, skills={skill: 1})
    rule(name="r", skill=other, channel=Channel.PHONE, region="北京")
    _chosen, (verdict,) = rules.match(wo)
    texts = [c.text for c in verdict.checks]
    assert texts == [
        "region 上海 ≠ 北京",
        "required skills 暖通 do not include 高压",
        "channel: the order came from no ticket (rule wants Phone)",
    ]


def test_preview_without_a_rule_falls_back_to_the_team_mode(cast):
    team = f.TeamFactory(name="浦东组", dispatch_mode=DispatchMode.GRAB)
    wo = _order(cast, team=team)
    decision = rules.preview(wo)
    assert decision.rule is None and decision.mode == RuleMode.GRAB
    assert decision.summary == (
        "No rule takes this order: team 浦东组's default, Offer to engineers."
    )
    data = decision.as_dict()
    assert data["rule"] is None and data["team"] == {"id": team.pk, "name": "浦东组"}


def test_preview_of_a_rule_names_its_target(cast):
    eng = engineer(user=cast.engineer)
    team = f.TeamFactory(name="高压组")
    wo = _order(cast)
    rule(name="高压专线", team=team, mode=RuleMode.GRAB, engineers=[eng])
    decision = rules.preview(wo)
    assert decision.summary == (
        "Rule “高压专线” takes this order to team 高压组 among 1 engineers: Offer to engineers."
    )
    assert decision.as_dict()["engineers"] == [{"id": eng.pk, "name": "工程师"}]
    assert WorkOrder.objects.get(pk=wo.pk).team is None  # a preview changes nothing


# ---------------------------------------------------------------- route()


def test_route_assign_sets_the_team_and_leaves_the_order_in_the_queue(cast):
    team = f.TeamFactory()
    wo = _order(cast)
    rule(name="assign", team=team, mode=RuleMode.ASSIGN)
    routed = rules.route(actor=cast.dispatcher, work_order=wo)
    wo.refresh_from_db()
    assert routed.decision.mode == RuleMode.ASSIGN and routed.offer is None
    assert wo.team == team and wo.status == WorkOrderStatus.NEW


def test_route_grab_offers_to_the_pool_only(cast):
    in_pool = engineer(user=cast.engineer)
    engineer()  # eligible, but not in the pool
    wo = _order(cast)
    rule(name="grab", mode=RuleMode.GRAB, engineers=[in_pool])
    routed = rules.route(actor=cast.dispatcher, work_order=wo)
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.OFFERED
    assert list(routed.offer.recipients.all()) == [in_pool]


def test_route_grab_with_nobody_eligible_stays_in_the_queue(cast):
    wo = _order(cast)
    rule(name="grab", mode=RuleMode.GRAB)
    routed = rules.route(actor=cast.dispatcher, work_order=wo)
    assert routed.offer is None and "No engineer is eligible" in routed.note
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.NEW


def test_route_to_a_partner_outlet(cast):
    wo = _order(cast)
    rule(name="outlet", partner=cast.partner, mode=RuleMode.ASSIGN)
    rules.route(actor=cast.dispatcher, work_order=wo)
    wo.refresh_from_db()
    assert wo.partner == cast.partner and wo.status == WorkOrderStatus.NEW


def test_route_optimise_leaves_it_for_the_planner(cast):
    wo = _order(cast)
    rule(name="plan", mode=RuleMode.OPTIMISE)
    routed = rules.route(actor=cast.dispatcher, work_order=wo)
    assert routed.decision.mode == RuleMode.OPTIMISE
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.NEW


def test_route_without_a_rule_uses_the_team_grab_mode(cast):
    engineer(user=cast.engineer)
    team = f.TeamFactory(dispatch_mode=DispatchMode.GRAB)
    wo = _order(cast, team=team)
    routed = rules.route(actor=cast.dispatcher, work_order=wo)
    assert routed.offer is not None
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.OFFERED


@pytest.mark.parametrize("role", ["engineer", "customer_a_admin", "outsider"])
def test_only_dispatchers_route(cast, role):
    wo = _order(cast)
    rule(name="grab", mode=RuleMode.GRAB, team=f.TeamFactory())
    with pytest.raises(PermissionDenied):
        rules.route(actor=cast.by_role(role), work_order=wo)
    wo.refresh_from_db()
    assert wo.team is None and wo.status == WorkOrderStatus.NEW
    assert not GrabOffer.objects.exists()


def test_route_refuses_orders_out_of_the_queue(cast):
    wo = _order(cast, status=WorkOrderStatus.COMPLETED)
    with pytest.raises(ValidationFailed):
        rules.route(actor=cast.dispatcher, work_order=wo)
