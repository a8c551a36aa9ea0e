"""Create the demo account, shop and presets once; print the login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from generations.models import Preset
from studio import actions
from studio.models import Membership

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-studio-2026"  # noqa: S105 - a published demo login for local runs

DEMO_PRESETS = [
    {
        "name": "Sticker badge",
        "template": 'a {{style}} sticker badge of {{subject}}, bold outline, "{{caption}}"',
        "variables": [
            {"key": "subject", "label": "Subject", "required": True, "type": "text"},
            {"key": "style", "label": "Style", "default": "retro pastel", "type": "text"},
            {"key": "caption", "label": "Caption", "default": "stay cozy", "type": "text"},
        ],
        "negative_prompt": "black",
        "aspect_ratio": "1:1",
    },
    {
        "name": "Poster",
        "template": '{{mood}} poster with mountains and a sun, "{{title}}"',
        "variables": [
            {"key": "title", "label": "Title", "required": True, "type": "text"},
            {"key": "mood", "label": "Mood", "default": "sunset", "type": "text"},
        ],
        "negative_prompt": "",
        "aspect_ratio": "2:3",
    },
    {
        "name": "T-shirt print",
        "template": '{{colour}} waves and circles, minimal t-shirt print, "{{slogan}}"',
        "variables": [
            {"key": "slogan", "label": "Slogan", "required": True, "type": "text"},
            {"key": "colour", "label": "Main colour", "default": "teal", "type": "text"},
        ],
        "negative_prompt": "",
        "aspect_ratio": "4:5",
    },
]


class Command(BaseCommand):
    help = "Load the demo shop (idempotent) and print its login."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(username=DEMO_EMAIL).first()
            if user is None:
                user = actions.sign_up(DEMO_EMAIL, DEMO_PASSWORD, "Demo Shop")
                shop = Membership.objects.get(user=user).shop
                actions.grant_credits(
                    shop, wallet_cents=5000, plan_budget_cents=2000, memo="demo credits"
                )
                for preset in DEMO_PRESETS:
                    Preset.objects.create(shop=shop, created_by=user, **preset)
                created = True
            else:
                created = False
        self.stdout.write(
            self.style.SUCCESS(
                ("Loaded demo data:" if created else "Demo data already present:")
                + f" log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
            )
        )
