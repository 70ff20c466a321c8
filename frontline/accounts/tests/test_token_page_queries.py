"""The token list page costs the same with one token or many."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.accounts import tokens


@pytest.mark.django_db
def test_token_list_query_count_does_not_grow(client, cast, django_assert_max_num_queries):
    client.force_login(cast.dispatcher)
    tokens.create_token(actor=cast.dispatcher, user=cast.dispatcher, name="first")
    client.get(reverse("accounts:token-list"))
    with django_assert_max_num_queries(8) as one:
        client.get(reverse("accounts:token-list"))
    for i in range(12):
        tokens.create_token(actor=cast.dispatcher, user=cast.dispatcher, name=f"冷站同步 {i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("accounts:token-list"))
    assert response.content.decode().count("冷站同步") == 12
