"""In a real browser (Debian's Chromium): the dispatcher opens a work order from a ticket,
dispatches it and reads the engineer's profile — with the CSP on, nothing inline runs."""

from __future__ import annotations

import pytest

from frontline.desk.tests import factories as df
from frontline.field.models import WorkOrder
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_dispatcher_creates_from_a_ticket_and_dispatches(page, cast, sign_in):
    # Given a customer's ticket at a site, and an engineer who works today
    skill = f.SkillFactory(code="hvac", name="暖通")
    engineer(user=cast.engineer, skills={skill: 3})
    site = f.SiteFactory(customer=cast.customer_a)
    ticket = df.TicketFactory(customer=cast.customer_a, site=site, owner=cast.dispatcher,
                              title='"><script>alert(1)</script> 冷机异响')  # fmt: skip
    sign_in(page, "dispatcher@t.example", f.PASSWORD)

    # When the dispatcher opens the ticket and asks for a work order
    page.goto(ticket.get_absolute_url())
    page.click("[data-testid=create-work-order]")
    page.wait_for_selector("[data-testid=from-ticket]")
    assert page.input_value("#id_title") == ticket.title
    page.select_option("#id_priority", "high")
    page.click("[data-testid=save]")

    # Then the work order page shows it, linked to the ticket, in the queue
    page.wait_for_selector("[data-testid=work-order-title]")
    wo = WorkOrder.objects.get(ticket=ticket)
    assert wo.priority == "high" and wo.site == site
    assert page.get_attribute("[data-testid=wo-status]", "data-status") == "new"

    # When it is dispatched to the engineer
    page.select_option("#id_dispatch-engineer", str(cast.engineer.pk))
    page.click("[data-testid=dispatch]")
    page.wait_for_selector("[data-testid=wo-status][data-status=dispatched]")
    assert "工程师" in page.inner_text("[data-testid=engineer]")

    # And the dispatcher opens the engineer's profile from there
    page.click("[data-testid=engineer] a")
    page.wait_for_selector("[data-testid=engineer-name]")
    assert page.locator("[data-testid=calendar] tr").count() == 14
    assert page.dialogs == [] and page.js_errors == []
