"""``frontline demo [--reset | --if-empty]``: load the demo company."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from frontline.accounts.models import Organization
from frontline.demo import data, loader


class Command(BaseCommand):
    help = "Load the demo company (沪联设施运维, its customers, sites, assets and people) into an empty database."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--reset", action="store_true", help="wipe every table first, then load the demo"
        )
        group.add_argument(
            "--if-empty",
            action="store_true",
            help="load only when no organisation exists; otherwise do nothing",
        )

        parser.add_argument(
            "--desk-days",
            type=int,
            default=60,
            help="days of service-desk history to play (default 60; 0 for none)",
        )
        parser.add_argument(
            "--field-days",
            type=int,
            default=30,
            help="days of work-order history to play before today's dispatch day "
            "(default 30; 0 for none)",
        )

        parser.add_argument(
            "--inspection-days",
            type=int,
            default=60,
            help="days of inspection rounds behind the 25 demo routes (default 60; 0 for none)",
        )

    def handle(self, *args, reset, if_empty, desk_days, field_days, inspection_days, **options):
        self.verbosity = options["verbosity"]
        if if_empty and Organization.objects.exists():
            self.stdout.write("The database already has data; the demo company was not loaded.")
            self.print_logins()
            return
        started = time.monotonic()
        try:
            if desk_days < 0 or field_days < 0 or inspection_days < 0:
                raise CommandError(
                    "--desk-days, --field-days and --inspection-days cannot be negative"
                )
            loaded = loader.load(
                reset=reset,
                desk_days=desk_days,
                field_days=field_days,
                inspection_days=inspection_days,
            )
        except loader.DemoDataExists as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{n} {name}" for name, n in loaded.counts().items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo company loaded in {time.monotonic() - started:.1f}s: {counts}."
            )
        )
        self.print_logins()

    def print_logins(self) -> None:
        if self.verbosity < 1:
            return
        self.stdout.write(f"\nDemo logins (password: {data.PASSWORD})")
        width = max(len(email) for email, _, _ in data.LOGINS)
        for email, role, note in data.LOGINS:
            self.stdout.write(f"  {email:<{width}}  {role:<16} {note}")
        self.stdout.write("")
