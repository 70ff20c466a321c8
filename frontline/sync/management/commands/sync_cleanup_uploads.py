"""End photo uploads left open more than a week and remove their waiting bytes."""

from django.core.management.base import BaseCommand

from frontline.sync.uploads import remove_stale


class Command(BaseCommand):
    help = "End photo uploads left open more than 7 days and remove their waiting bytes."

    def handle(self, *args, **options):
        self.stdout.write(f"{remove_stale()} stale uploads removed")
