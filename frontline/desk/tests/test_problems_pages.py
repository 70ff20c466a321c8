"""Problem pages: list, detail, create from a ticket selection, link/unlink, transition, resolve."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.desk import problems as svc
from frontline.desk.models import Problem, Ticket, TicketEvent
from frontline.desk.states import EventKind
from frontline.desk.tests.factories import ticket_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def problem(cast):
    ticket = ticket_for(cast, title="冷机高压报警")
    return svc.create_problem(actor=cast.manager, title="变频器固件缺陷", tickets=[ticket])


def page_urls(problem):
    return [
        reverse("desk:problem-list"),
        reverse("desk:problem-create"),
        reverse("desk:problem-detail", args=[problem.pk]),
        reverse("desk:problem-edit", args=[problem.pk]),
    ]


def action_urls(problem):
    return [
        reverse(f"desk:problem-{verb}", args=[problem.pk])
        for verb in ("link", "unlink", "transition", "resolve")
    ]


@pytest.mark.parametrize("role", ["customer_a_admin", "customer_b_admin", "partner_engineer"])
def test_customers_get_404_on_every_problem_page(client, cast, problem, role):
    client.force_login(cast.by_role(role))
    for url in page_urls(problem):
        assert client.get(url).status_code == 404, url
    for url in action_urls(problem):
        assert client.post(url, {"status": "investigating", "tickets": "1"}).status_code == 404
    assert Problem.objects.get(pk=problem.pk).status == "open"


def test_anonymous_is_sent_to_login(client, problem):
    response = client.get(reverse("desk:problem-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_list_shows_count_and_filters(client, cast, problem):
    svc.create_problem(actor=cast.manager, title="另一个问题")
    client.force_login(cast.analyst)
    response = client.get(reverse("desk:problem-list"), {"q": "固件"})
    assert response.status_code == 200
    html = response.content.decode()
    assert problem.number in html and "另一个问题" not in html
    assert 'data-testid="ticket-count">1<' in html
    response = client.get(reverse("desk:problem-list"), {"status": "resolved"})
    assert problem.number not in response.content.decode()
    response = client.get(reverse("desk:problem-list"), {"sort": "-ticket_count"})
    assert response.status_code == 200


def test_htmx_list_renders_only_the_table(client, cast, problem):
    client.force_login(cast.manager)
    response = client.get(reverse("desk:problem-list"), headers={"HX-Request": "true"})
    assert b"<html" not in response.content and problem.number.encode() in response.content


def test_list_page_query_count_does_not_grow(client, cast, django_assert_max_num_queries):
    for i in range(15):
        svc.create_problem(
            actor=cast.manager, title=f"问题{i}", tickets=[ticket_for(cast)], fix_owner=cast.agent
        )
    client.force_login(cast.manager)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("desk:problem-list"))
    assert response.status_code == 200


def test_detail_shows_linked_tickets_and_actions(client, cast, problem):
    client.force_login(cast.manager)
    response = client.get(problem.get_absolute_url())
    html = response.content.decode()
    assert "冷机高压报警" in html
    assert 'data-testid="resolve-form"' in html and 'data-testid="transition-investigating"' in html


def test_detail_for_a_reader_has_no_actions(client, cast, problem):
    client.force_login(cast.analyst)
    html = client.get(problem.get_absolute_url()).content.decode()
    assert 'data-testid="resolve-form"' not in html and 'data-testid="link-form"' not in html


def test_create_from_selected_tickets_prefills_only_visible_ones(client, cast):
    # Given a selection on the ticket list
    a = ticket_for(cast, title="选中的工单")
    b = ticket_for(cast, customer=cast.customer_b, title="另一家客户")
    client.force_login(cast.agent)
    response = client.get(reverse("desk:problem-create"), {"tickets": f"{a.pk},{b.pk},oops"})
    # Then the form lists both (staff see every customer), leaving out what does not exist
    assert response.status_code == 200
    assert response.context["form"].initial["tickets"] == f"{a.number}, {b.number}"
    assert "选中的工单" in response.content.decode()
    # When it is submitted
    response = client.post(
        reverse("desk:problem-create"),
        {"title": "共性问题", "tickets": f"{a.number}, {b.pk}", "attribution": "delivery"},
    )
    # Then the problem exists with both tickets and we land on it
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == problem.get_absolute_url()
    assert set(Ticket.objects.filter(problem=problem)) == {a, b}


def test_create_with_unknown_ticket_shows_the_error_and_saves_nothing(client, cast):
    client.force_login(cast.agent)
    response = client.post(reverse("desk:problem-create"), {"title": "x", "tickets": "T-NOPE"})
    assert response.status_code == 200
    assert "T-NOPE" in str(response.context["form"].errors)
    assert not Problem.objects.exists()


def test_create_page_is_403_without_the_capability(client, cast):
    client.force_login(cast.dispatcher)
    assert client.get(reverse("desk:problem-create")).status_code == 403


def test_edit_through_the_service(client, cast, problem):
    client.force_login(cast.manager)
    response = client.post(
        reverse("desk:problem-edit", args=[problem.pk]),
        {"title": "固件缺陷（已定位）", "fix_plan": "全网升级", "fix_owner": cast.engineer.pk},
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert (problem.title, problem.fix_owner) == ("固件缺陷（已定位）", cast.engineer)


def test_link_and_unlink_forms(client, cast, problem):
    other = ticket_for(cast, customer=cast.customer_b)
    client.force_login(cast.agent)
    client.post(reverse("desk:problem-link", args=[problem.pk]), {"tickets": other.number})
    assert Ticket.objects.get(pk=other.pk).problem_id == problem.pk
    client.post(reverse("desk:problem-unlink", args=[problem.pk]), {"ticket": other.pk})
    assert Ticket.objects.get(pk=other.pk).problem_id is None


def test_illegal_transition_on_the_page_shows_the_allowed_ones(client, cast, problem):
    client.force_login(cast.manager)
    response = client.post(
        reverse("desk:problem-transition", args=[problem.pk]), {"status": "closed"}, follow=True
    )
    html = response.content.decode()
    assert "Investigating" in html and "cannot become" in html
    assert Problem.objects.get(pk=problem.pk).status == "open"


def test_transition_needs_the_capability(client, cast, problem):
    client.force_login(cast.engineer)
    url = reverse("desk:problem-transition", args=[problem.pk])
    assert client.post(url, {"status": "investigating"}).status_code == 403
    assert Problem.objects.get(pk=problem.pk).status == "open"


def test_resolve_form_posts_the_reply(client, cast, problem):
    client.force_login(cast.manager)
    client.post(reverse("desk:problem-resolve", args=[problem.pk]), {"public_reply": "已根治"})
    assert Problem.objects.get(pk=problem.pk).status == "resolved"
    ticket = Ticket.objects.get(problem=problem)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.REPLY).count() == 1


def test_title_is_escaped(client, cast):
    problem = svc.create_problem(actor=cast.manager, title='"><script>alert(1)</script>')
    client.force_login(cast.manager)
    for url in (reverse("desk:problem-list"), problem.get_absolute_url()):
        assert b"<script>alert(1)" not in client.get(url).content
