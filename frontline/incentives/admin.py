"""Admin for incentives: everything is read-only here.

Rules, the coin rate and redemptions change only through the incentive services (pages,
API), which validate, lock and audit; the ledger is append-only and wallets are the
ledger's sums. The admin shows them.
"""

from django.contrib import admin

from frontline.desk.admin import ReadOnlyAdmin
from frontline.incentives.models import (
    IncentiveSettings,
    LedgerEntry,
    PointRule,
    Redemption,
    Wallet,
)


@admin.register(PointRule)
class PointRuleAdmin(ReadOnlyAdmin):
    list_display = ("name", "event", "threshold", "points", "coins", "project", "team", "is_active")
    list_filter = ("event", "is_active")
    list_select_related = ("project", "team")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "user",
        "kind",
        "event",
        "points",
        "coins",
        "source_type",
        "source_id",
    )
    list_filter = ("kind", "event", "source_type")
    list_select_related = ("user",)
    date_hierarchy = "occurred_at"


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ("user", "points_balance", "coins_balance", "updated_at")
    list_select_related = ("user",)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = (
        "requested_at",
        "user",
        "coins",
        "cash_amount",
        "currency",
        "status",
        "exported_at",
    )
    list_filter = ("status",)
    list_select_related = ("user",)


@admin.register(IncentiveSettings)
class IncentiveSettingsAdmin(ReadOnlyAdmin):
    list_display = ("coin_rate", "currency", "updated_at")
