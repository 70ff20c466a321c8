"""A paginator whose count is exact up to a cap, for lists that can grow to millions of rows.

An exact ``COUNT(*)`` reads every matching row (or index entry): over a million
tickets it costs more than the rest of the request together, on every page. Like
GitLab's "10,000+", :class:`CappedPaginator` counts at most ``cap + 1`` rows
(``SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)``): at or below the cap the count
is exact; above it the count is the cap and ``capped`` is true, meaning "more than
``count``". Pages past the cap stay reachable: when capped, a page reads one row more
than it shows, which says whether there is a next one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Counted exactly up to this many rows (settings.LIST_COUNT_CAP overrides it).
DEFAULT_COUNT_CAP = 10_000


def count_cap() -> int:
    return int(getattr(settings, "LIST_COUNT_CAP", DEFAULT_COUNT_CAP))


def capped_count(object_list, cap: int) -> int:
    """How many rows ``object_list`` has, counting at most ``cap + 1`` of them."""
    if isinstance(object_list, QuerySet):
        # Only the id, no order, no joins for display: the cheapest rows to count.
        return object_list.order_by().values("pk")[: cap + 1].count()
    return min(len(object_list), cap + 1)


class CappedPage(Page):
    """A page read with one extra row: it knows whether a next page exists."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self._more = more

    def has_next(self) -> bool:
        return self._more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class CappedPaginator(Paginator):
    """``Paginator`` with a count that stops at ``cap`` (see the module docstring)."""

    def __init__(self, object_list, per_page, *args, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = count_cap() if cap is None else cap

    @cached_property
    def _counted(self) -> int:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        """The number of rows, or the cap when there are more (then ``capped`` is true)."""
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        """Whether there are more rows than ``count`` says."""
        return self._counted > self.cap

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        # Past the cap the last page is unknown: a page number is valid when its page
        # has rows, which page() finds out by reading it.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


__all__ = ["DEFAULT_COUNT_CAP", "CappedPage", "CappedPaginator", "capped_count", "count_cap"]
