"""Wallet balances: written only here, always as the sum of the user's ledger entries.

Whoever adds entries calls :func:`refresh` in the same transaction. It takes the
wallets' row locks (in user order, so two writers never deadlock) and then sums the
ledger: on PostgreSQL the sum runs after the lock is held, so it sees every entry a
concurrent writer committed before it, and the invariant "balance == Σ ledger" holds
whatever the interleaving.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import DecimalField, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from frontline.incentives.models import LedgerEntry, Wallet

CHUNK = 500


def _sum(field: str, output):
    total = (
        LedgerEntry.objects.filter(user_id=OuterRef("user_id"))
        .order_by()
        .values("user_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=output), Value(0), output_field=output)


def refresh(user_ids: Iterable[int]) -> None:
    """Rewrite the wallets of ``user_ids`` from the ledger (inside transaction.atomic)."""
    ids = sorted({int(u) for u in user_ids if u is not None})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        Wallet.objects.bulk_create([Wallet(user_id=u) for u in chunk], ignore_conflicts=True)
        list(
            Wallet.objects.select_for_update()
            .filter(user_id__in=chunk)
            .order_by("user_id")
            .values_list("pk", flat=True)
        )
        Wallet.objects.filter(user_id__in=chunk).update(
            points_balance=_sum("points", IntegerField()),
            coins_balance=_sum("coins", DecimalField(max_digits=14, decimal_places=2)),
            updated_at=timezone.now(),
        )


def lock_wallet(user) -> Wallet:
    """The user's wallet under its row lock, created empty when missing."""
    Wallet.objects.bulk_create([Wallet(user_id=user.pk)], ignore_conflicts=True)
    return Wallet.objects.select_for_update().get(user_id=user.pk)


def balance_of(user) -> tuple[int, Decimal]:
    row = Wallet.objects.filter(user_id=user.pk).values_list("points_balance", "coins_balance")
    found = row.first()
    return (found[0], found[1]) if found else (0, Decimal("0.00"))
