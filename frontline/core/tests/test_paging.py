"""The capped paginator: an exact count up to the cap, "cap+" above it, every page reachable."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frontline.core.paging import CappedPaginator, capped_count
from frontline.sites.models import AssetModel
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven_models():
    for i in range(7):
        f.AssetModelFactory(model=f"型号 {i}")
    return AssetModel.objects.order_by("pk")


def test_below_or_at_the_cap_the_count_is_exact_and_pages_behave_as_django_s(seven_models):
    for cap in (7, 100):
        paginator = CappedPaginator(seven_models, 3, cap=cap)
        assert (paginator.count, paginator.capped, paginator.num_pages) == (7, False, 3)
        last = paginator.page(3)
        assert (last.start_index(), last.end_index(), last.has_next()) == (7, 7, False)
        with pytest.raises(EmptyPage):
            paginator.page(4)


def test_above_the_cap_the_count_is_the_cap_and_says_so(seven_models):
    paginator = CappedPaginator(seven_models, 3, cap=4)
    assert (paginator.count, paginator.capped) == (4, True)
    # the count read at most cap + 1 rows, in one query
    with CaptureQueriesContext(connection) as queries:
        assert capped_count(seven_models, 4) == 5
    assert len(queries) == 1 and "LIMIT 5" in queries[0]["sql"].upper()


def test_pages_past_the_cap_are_reachable_and_know_whether_another_follows(seven_models):
    paginator = CappedPaginator(seven_models, 3, cap=4)
    names = [m.model for m in seven_models]
    first, second, third = paginator.page(1), paginator.page(2), paginator.page(3)
    assert [m.model for m in first] == names[:3] and first.has_next() and not first.has_previous()
    assert [m.model for m in second] == names[3:6] and second.has_next()
    assert [m.model for m in third] == names[6:] and not third.has_next()
    assert (third.start_index(), third.end_index()) == (7, 7)
    assert second.next_page_number() == 3 and third.previous_page_number() == 2
    with pytest.raises(EmptyPage):
        paginator.page(4)
    with pytest.raises(EmptyPage):
        paginator.page(0)
    with pytest.raises(PageNotAnInteger):
        paginator.page("x")


def test_a_page_takes_as_many_queries_capped_as_not(seven_models):
    counts = []
    for cap in (100, 4):
        with CaptureQueriesContext(connection) as queries:
            paginator = CappedPaginator(seven_models, 3, cap=cap)
            list(paginator.page(2))
        counts.append(len(queries))
    assert counts == [2, 2]  # the count, the page


def test_the_cap_comes_from_settings(settings, seven_models):
    settings.LIST_COUNT_CAP = 5
    assert CappedPaginator(seven_models, 3).capped
    settings.LIST_COUNT_CAP = 7
    assert not CappedPaginator(seven_models, 3).capped
