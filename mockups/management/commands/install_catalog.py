"""Install the built-in product catalog rows (idempotent); --refresh re-applies the code's fields."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mockups.products import install_catalog


class Command(BaseCommand):
    help = "Install (or with --refresh, update and re-version) the built-in mockup catalog."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--refresh", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        templates = install_catalog(refresh=options["refresh"])
        self.stdout.write(self.style.SUCCESS(f"Catalog: {len(templates)} product templates."))
