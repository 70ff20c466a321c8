"""People pages: teams (CRUD, scoping, htmx, query counts), API tokens, profile, CSRF, language."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from frontline.accounts.models import ApiToken, EngineerSkill, Team, User
from frontline.accounts.roles import Role
from frontline.core.models import AuditEntry
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def teams(cast):
    hvac = f.SkillFactory(code="hvac", name="暖通")
    hv = f.SkillFactory(code="hv", name="高压电")
    made = []
    for i in range(6):
        people = [f.member(Role.ENGINEER, cast.operator) for _ in range(3)]
        for person in people:
            EngineerSkill.objects.create(user=person, skill=hvac, level=3)
            EngineerSkill.objects.create(user=person, skill=hv, level=2)
        team = f.TeamFactory(
            name=f"运维{i}组", lead=people[0], dispatch_mode="grab" if i % 2 else "assign"
        )
        team.members.set(people)
        made.append(team)
    made.append(f.TeamFactory(name="苏州网点队", organization=cast.partner))
    return made


# ---------------------------------------------------------------- team list


def test_team_list_shows_visible_teams_with_filters_and_sort(cast, teams):
    client = signed_in(cast.manager)
    response = client.get(reverse("accounts:team-list"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "运维0组" in text and "苏州网点队" in text
    assert (
        'name="dispatch_mode"' in text
        and 'name="organization"' in text
        and 'name="is_active"' in text
    )
    grab = client.get(reverse("accounts:team-list"), {"dispatch_mode": "grab"}).content.decode()
    assert "运维1组" in grab and "运维0组" not in grab
    found = client.get(reverse("accounts:team-list"), {"q": "苏州"}).content.decode()
    assert "苏州网点队" in found and "运维0组" not in found
    ordered = client.get(reverse("accounts:team-list"), {"sort": "-name"}).context["object_list"]
    assert [t.name for t in ordered] == sorted((t.name for t in teams), reverse=True)


def test_team_list_ignores_sort_fields_off_the_allowlist(cast, teams):
    response = signed_in(cast.manager).get(
        reverse("accounts:team-list"), {"sort": "lead__password"}
    )
    assert response.status_code == 200 and response.context["sort"] == "name"


def test_team_list_paginates(cast, teams):
    for i in range(30):
        f.TeamFactory(name=f"扩编{i:02d}")
    client = signed_in(cast.manager)
    first = client.get(reverse("accounts:team-list"))
    assert len(first.context["object_list"]) == 25 and first.context["is_paginated"]
    second = client.get(reverse("accounts:team-list"), {"page": 2})
    assert len(second.context["object_list"]) == len(teams) + 30 - 25
    assert client.get(reverse("accounts:team-list"), {"page": 99}).status_code == 404


def test_team_list_htmx_returns_the_partial(cast, teams):
    response = signed_in(cast.manager).get(reverse("accounts:team-list"), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in text and 'data-testid="team-table"' in text


def test_partner_sees_only_own_teams_and_customers_none(cast, teams):
    text = signed_in(cast.partner_admin).get(reverse("accounts:team-list")).content.decode()
    assert "苏州网点队" in text and "运维0组" not in text
    response = signed_in(cast.customer_a_admin).get(reverse("accounts:team-list"))
    assert list(response.context["object_list"]) == []


def test_team_list_query_count_is_flat(cast, teams, django_assert_max_num_queries):
    client = signed_in(cast.manager)
    client.get(reverse("accounts:team-list"))  # warm the session and content types
    with django_assert_max_num_queries(8):
        response = client.get(reverse("accounts:team-list"))
    assert len(response.context["object_list"]) == len(teams)


# ---------------------------------------------------------------- team detail


def test_team_detail_shows_lead_members_skills_and_history(
    cast, teams, django_assert_max_num_queries
):
    team = teams[0]
    client = signed_in(cast.manager)
    client.get(team.get_absolute_url())
    with django_assert_max_num_queries(10):
        response = client.get(team.get_absolute_url())
    text = response.content.decode()
    assert response.status_code == 200
    assert str(team.lead) in text and "暖通" in text and "高压电" in text
    assert 'data-testid="audit"' in text
    for person in team.members.all():
        assert str(person) in text


def test_partner_opening_an_operator_team_gets_404(cast, teams):
    client = signed_in(cast.partner_admin)
    assert client.get(teams[0].get_absolute_url()).status_code == 404
    assert client.get(reverse("accounts:team-edit", args=[teams[0].pk])).status_code == 404
    assert (
        client.post(reverse("accounts:team-edit", args=[teams[0].pk]), {"name": "x"}).status_code
        == 404
    )
    assert client.get(reverse("accounts:team-detail", args=["9" * 30])).status_code == 404
    assert client.get(reverse("accounts:team-detail", args=["abc"])).status_code == 404


def test_anonymous_is_sent_to_login(teams):
    response = Client().get(reverse("accounts:team-list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# ---------------------------------------------------------------- team create and edit


def test_manager_creates_and_edits_a_team(cast, teams):
    client = signed_in(cast.manager)
    assert client.get(reverse("accounts:team-create")).status_code == 200
    response = client.post(
        reverse("accounts:team-create"),
        {
            "organization": cast.operator.pk,
            "name": "夜班组",
            "description": "22:00-06:00",
            "lead": cast.engineer.pk,
            "members": [cast.engineer.pk, cast.dispatcher.pk],
            "dispatch_mode": "grab",
            "is_active": "on",
        },
    )
    team = Team.objects.get(name="夜班组")
    assert response.status_code == 302 and response["Location"] == team.get_absolute_url()
    assert set(team.members.all()) == {cast.engineer, cast.dispatcher}
    response = client.post(
        reverse("accounts:team-edit", args=[team.pk]),
        {
            "name": "夜班一组",
            "lead": cast.engineer.pk,
            "members": [cast.engineer.pk],
            "dispatch_mode": "auto",
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.dispatch_mode, team.is_active) == ("夜班一组", "auto", False)
    assert list(team.members.all()) == [cast.engineer]
    assert AuditEntry.objects.for_object(team).count() == 2


def test_team_form_shows_service_errors_and_saves_nothing(cast, teams):
    client = signed_in(cast.manager)
    response = client.post(
        reverse("accounts:team-create"),
        {
            "organization": cast.partner.pk,
            "name": "运维0组",
            "members": [cast.engineer.pk],
            "dispatch_mode": "assign",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Team.objects.filter(organization=cast.partner, name="运维0组").exists()


def test_duplicate_name_is_a_form_error(cast, teams):
    response = signed_in(cast.manager).post(
        reverse("accounts:team-edit", args=[teams[1].pk]),
        {"name": teams[0].name, "dispatch_mode": "assign"},
    )
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert Team.objects.get(pk=teams[1].pk).name == "运维1组"


@pytest.mark.parametrize("name", ["agent", "dispatcher", "engineer", "partner_engineer"])
def test_people_without_manage_teams_get_403(cast, teams, name):
    client = signed_in(cast.by_role(name))
    team = teams[-1] if name.startswith("partner") else teams[0]
    assert client.get(reverse("accounts:team-edit", args=[team.pk])).status_code == 403
    assert (
        client.post(
            reverse("accounts:team-edit", args=[team.pk]), {"name": "x", "dispatch_mode": "assign"}
        ).status_code
        == 403
    )
    assert client.get(reverse("accounts:team-create")).status_code == 403
    assert Team.objects.get(pk=team.pk).name == team.name
    assert 'data-testid="team-edit"' not in client.get(team.get_absolute_url()).content.decode()


def test_partner_admin_creates_a_team_only_in_own_org(cast, teams):
    client = signed_in(cast.partner_admin)
    form = client.get(reverse("accounts:team-create")).context["form"]
    assert list(form.fields["organization"].queryset) == [cast.partner]
    response = client.post(
        reverse("accounts:team-create"),
        {"organization": cast.operator.pk, "name": "越权组", "dispatch_mode": "assign"},
    )
    assert response.status_code == 200 and "organization" in response.context["form"].errors
    assert not Team.objects.filter(name="越权组").exists()


# ---------------------------------------------------------------- CSRF


def test_posts_without_a_csrf_token_are_403(cast, teams):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.manager)
    before = Team.objects.count()
    response = client.post(
        reverse("accounts:team-create"),
        {"organization": cast.operator.pk, "name": "x", "dispatch_mode": "assign"},
    )
    assert response.status_code == 403
    assert Team.objects.count() == before
    assert (
        client.post(
            reverse("accounts:token-list"), {"name": "x", "scopes": ["read"], "expires_in_days": 30}
        ).status_code
        == 403
    )
    assert client.post(reverse("set-language"), {"language": "zh-hans"}).status_code == 403
    assert not ApiToken.objects.exists()
    assert User.objects.get(pk=cast.manager.pk).preferred_language == ""


# ---------------------------------------------------------------- API tokens page


def test_token_page_shows_a_new_token_once_and_revokes(cast):
    client = signed_in(cast.agent)
    assert client.get(reverse("accounts:token-list")).status_code == 200
    response = client.post(
        reverse("accounts:token-list"), {"name": "BMS", "scopes": ["read"], "expires_in_days": 30}
    )
    text = response.content.decode()
    token = ApiToken.objects.get(user=cast.agent)
    raw = re.search(r'id="new-token-value">(fl_[^<]+)<', text).group(1)
    assert raw.startswith(f"fl_{token.prefix}_") and 'data-copy="#new-token-value"' in text
    assert response["Cache-Control"] == "no-store"
    again = client.get(reverse("accounts:token-list")).content.decode()
    assert raw not in again and f"fl_{token.prefix}_" in again and "data-confirm" in again
    assert client.get(reverse("accounts:token-revoke", args=[token.pk])).status_code == 405
    response = client.post(reverse("accounts:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_token_page_rejects_bad_input_and_foreign_tokens(cast):
    client = signed_in(cast.agent)
    response = client.post(
        reverse("accounts:token-list"), {"name": "", "scopes": ["root"], "expires_in_days": 9999}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scopes", "expires_in_days"}
    other = ApiToken.objects.create(
        user=cast.manager, name="m", prefix="abcd0001", key_hash="0" * 64
    )
    assert client.post(reverse("accounts:token-revoke", args=[other.pk])).status_code == 404
    assert client.post(reverse("accounts:token-revoke", args=["9" * 30])).status_code == 404
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None


def test_outsider_cannot_use_the_token_page(cast):
    assert signed_in(cast.outsider).get(reverse("accounts:token-list")).status_code == 403


# ---------------------------------------------------------------- profile and language


def test_profile_saves_own_preferences(cast):
    client = signed_in(cast.customer_a_user)
    assert client.get(reverse("accounts:profile")).status_code == 200
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "李工",
            "phone": "13800000000",
            "preferred_language": "en",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(pk=cast.customer_a_user.pk)
    assert (user.display_name, user.phone, user.preferred_language, user.time_zone) == (
        "李工",
        "13800000000",
        "en",
        "Europe/Berlin",
    )


def test_profile_ignores_role_fields_and_rejects_bad_values(cast):
    client = signed_in(cast.customer_a_user)
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": " ", "time_zone": "Mars/Base", "role": "admin", "is_staff": "on"},
    )
    assert response.status_code == 200
    assert {"display_name", "time_zone"} <= set(response.context["form"].errors)
    user = User.objects.get(pk=cast.customer_a_user.pk)
    assert (user.role, user.is_staff) == (Role.CUSTOMER_USER, False)


def test_language_switch_is_saved_and_used_on_the_next_page(cast):
    client = signed_in(cast.agent)
    response = client.post(
        reverse("set-language"), {"language": "zh-hans", "next": reverse("accounts:profile")}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=cast.agent.pk).preferred_language == "zh-hans"
    page = client.get(reverse("accounts:profile"))
    assert '<html lang="zh-hans">' in page.content.decode()
