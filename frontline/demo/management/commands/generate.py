"""``frontline generate --tickets N --work-orders N --readings N``: data at scale."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from frontline.demo.generate import NotEmpty, generate


class Command(BaseCommand):
    help = (
        "Fill the database with realistic, consistent data in bulk (the demo company grown "
        "with generated customers, tickets, work orders and inspection readings), for "
        "benchmarks and trying the system at scale. Refuses a non-empty database unless "
        "--append is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=0, help="tickets to write")
        parser.add_argument("--work-orders", type=int, default=0, help="work orders to write")
        parser.add_argument("--readings", type=int, default=0, help="inspection readings to write")
        parser.add_argument(
            "--customers",
            "--organisations",
            type=int,
            default=20,
            help="customer organisations to add to the demo's three (default 20)",
        )
        parser.add_argument(
            "--agents", type=int, default=20, help="service-desk agents to add (default 20)"
        )
        parser.add_argument(
            "--days", type=int, default=365, help="how far back the history goes (default 365)"
        )
        parser.add_argument("--seed", type=int, default=20261122, help="random seed")
        parser.add_argument(
            "--append", action="store_true", help="add to a database that already holds data"
        )

    def handle(self, *args, **options):
        for name in ("tickets", "work_orders", "readings", "customers", "agents"):
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} cannot be negative")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        started = time.monotonic()
        say = self.stdout.write if options["verbosity"] > 0 else (lambda line: None)
        try:
            report = generate(
                tickets=options["tickets"],
                work_orders=options["work_orders"],
                readings=options["readings"],
                customers=options["customers"],
                agents=options["agents"],
                days=options["days"],
                seed=options["seed"],
                append=options["append"],
                progress=lambda line: say(line),
            )
        except NotEmpty as exc:
            raise CommandError(str(exc)) from exc
        rows = ", ".join(f"{name} {count:,}" for name, count in report.counts.items())
        say(f"Generated {rows or 'the world only'} in {time.monotonic() - started:.1f} s.")
