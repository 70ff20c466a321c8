"""A customer's problem, from the portal to a confirmed resolution, with fire called at S1.

A customer of 华东生物制药 submits a ticket in the portal (with a planted image that
would run script if it were ever rendered raw) → a service agent takes it → calls fire
at S1 → the company-wide fire feed shows it → an engineer summoned by S1 joins the room
→ writes the bug brief → resolves → the customer confirms. No script error, no dialog.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from frontline.accounts.roles import OrganizationKind, Role
from frontline.desk.models import BugBrief, FireCall, FireSummons, Ticket
from frontline.desk.states import TicketStatus
from frontline.desk.tests import factories as df
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLANTED = "<img src=x onerror=alert(1)>"


def switch_user(page, sign_in, user) -> None:
    page.context.clear_cookies()
    sign_in(page, user.email, f.PASSWORD)


def test_a_customer_request_goes_through_fire_to_a_confirmed_resolution(page, sign_in):
    # Given a customer, the desk's intake agent, the agent on duty and an engineer S1 summons
    customer_org = f.OrganizationFactory(
        name="华东生物制药", code="huadong-bio", kind=OrganizationKind.CUSTOMER
    )
    customer = f.member(Role.CUSTOMER_USER, customer_org, email="qa@huadong.example")
    f.member(Role.AGENT, email="intake@frontline.example", display_name="值班台")
    agent = f.member(Role.AGENT, email="agent@frontline.example", display_name="客服小李")
    engineer = f.member(Role.ENGINEER, email="eng@frontline.example", display_name="工程师老王")
    df.SeverityLevelFactory(severity="S1", name="导弹", summon_roles=[Role.ENGINEER])
    for severity in ("S2", "S3", "S4"):
        df.SeverityLevelFactory(severity=severity)
    title = f"冷水机组停机 {uuid.uuid4().hex[:6]}"

    # When the customer submits the problem in the portal
    switch_user(page, sign_in, customer)
    page.goto(reverse("desk:portal-ticket-create"))
    page.fill("[name=title]", title)
    page.fill("[name=description]", f"<p>早上 8 点起停机</p>{PLANTED}")
    page.select_option("select[name=severity]", "S3")
    page.click("[data-testid=submit]")
    page.wait_for_load_state()
    ticket = Ticket.objects.get(title=title)
    assert page.get_by_text("早上 8 点起停机").is_visible()
    assert page.locator("img[onerror]").count() == 0

    # Then the agent on duty takes it and calls fire at S1
    switch_user(page, sign_in, agent)
    page.goto(reverse("desk:ticket-detail", args=[ticket.pk]))
    page.click("[data-testid=take]")
    page.locator("[data-testid=owner]", has_text="客服小李").wait_for()
    page.select_option("select[name=fire-level]", "S1")
    page.fill("[name=fire-message]", "一号厂区全部停冷，GMP 车间受影响")
    page.click("[data-testid=call-fire]")
    page.locator("[data-testid=fire-open]").wait_for()
    ticket.refresh_from_db()
    assert ticket.owner == agent and ticket.fire_open
    call = FireCall.objects.get(ticket=ticket, closed_at__isnull=True)
    assert FireSummons.objects.filter(fire_call=call, user=engineer, summoned=True).exists()

    # And the company-wide fire feed shows the call
    page.goto(reverse("desk:fire-feed"))
    assert page.locator("[data-testid=fire-call]", has_text=ticket.number).is_visible()

    # When the summoned engineer opens the feed, follows the call and joins the room
    switch_user(page, sign_in, engineer)
    page.goto(reverse("desk:fire-feed"))
    page.locator("[data-testid=fire-call]", has_text=ticket.number).get_by_role(
        "link", name=ticket.number
    ).click()
    page.wait_for_load_state()
    page.click("[data-testid=join]")
    page.locator("[data-testid=joined]", has_text="工程师老王").wait_for()
    assert FireSummons.objects.get(fire_call=call, user=engineer).joined_at is not None

    # And writes the bug brief, then resolves the ticket
    for name, value in {
        "symptom": "冷水机组低压报警停机",
        "impact": "GMP 车间停产 2 小时",
        "scope": "一号厂区",
        "workaround": "启用备用机组",
        "root_cause": "膨胀阀堵塞",
        "fix": "更换膨胀阀",
        "prevention": "增加季度滤网清洗",
    }.items():
        page.fill(f"[name=brief-{name}]", value)
    page.click("[data-testid=brief]")
    page.locator("[data-testid=brief-card] .badge", has_text="written").wait_for()
    assert BugBrief.objects.filter(ticket=ticket).exists()
    page.select_option("select[name=transition-to_status]", TicketStatus.RESOLVED)
    page.click("[data-testid=transition]")
    page.locator("[data-testid=status][data-status=resolved]").first.wait_for()

    # Then the customer confirms the resolution in the portal
    switch_user(page, sign_in, customer)
    page.goto(reverse("desk:portal-ticket-detail", args=[ticket.pk]))
    page.click("[data-testid=confirm]")
    page.locator("[data-testid=status][data-status=closed]").first.wait_for()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    # the internal room never reached the customer
    assert "GMP 车间受影响" not in page.content()

    # And nothing ran that should not have: no script errors, no dialogs, no planted handler
    assert page.locator("img[onerror]").count() == 0
    assert page.js_errors == []
    assert page.dialogs == []
