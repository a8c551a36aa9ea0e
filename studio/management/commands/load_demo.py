"""Create the demo account, shop and presets once, fill an empty demo library with designs,
cut-outs and product listings (made by the offline engines, through the same actions as the
pages), and print the login."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from generations import actions as jobs
from generations import operations
from generations.models import Asset, Job
from generations.presets import PresetFields, create_preset
from studio import actions
from studio.models import Membership, Shop

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

# (key, prompt, aspect ratio, seed): seeds picked for designs that look good on products.
DEMO_DESIGNS = [
    ("cat", "a teal cat under a moon, sticker", "1:1", 12),
    ("brew", 'minimal coffee cup badge, warm brown, "BREW"', "1:1", 12),
    ("poster", 'retro sunset poster with mountains, "GO OUTSIDE"', "2:3", 11),
    ("flowers", "pink flowers and leaves, seamless pattern", "1:1", 13),
    ("sea", 'navy waves and circles, minimal t-shirt print, "SEA"', "4:5", 12),
    ("wild", 'a forest badge in orange and green, "WILD"', "1:1", 13),
    ("cactus", "a cactus in a pot, pastel sticker", "1:1", 11),
]
# Designs cut out of their background (for garments and mugs), and the listings made of them.
DEMO_CUTOUTS = ("cat", "brew")
DEMO_LISTINGS = [
    # (product, design, variant, title, price in cents, placement)
    ("tshirt", "cat:cutout", "navy", "Moon cat tee", 2400, {"scale": 0.9}),
    ("mug", "brew:cutout", "", "Brew mug", 1600, {}),
    ("poster-framed", "poster", "", "Go outside poster", 3000, {"fit": "cover"}),
    ("tote", "flowers", "natural", "Flower field tote", 1900, {"fit": "cover"}),
]


class Command(BaseCommand):
    help = "Load the demo shop (idempotent): login, presets, a library and listings."

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
                    create_preset(shop, PresetFields(**preset), by=user)
                created = True
            else:
                created = False
        shop = Membership.objects.filter(user=user, role="owner").select_related("shop").first()
        # An untouched demo shop (no job ever ran) gets its library; one in use is left alone.
        if shop is not None and not Job.objects.filter(shop=shop.shop).exists():
            self.stdout.write("Drawing the demo library with the offline engines…")
            self.fill_library(shop.shop, user)
            created = True
        self.stdout.write(
            self.style.SUCCESS(
                ("Loaded demo data:" if created else "Demo data already present:")
                + f" log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
            )
        )

    def run(self, job: Job) -> Job:
        """Run a job here; if a worker claimed it first, wait for the worker to finish it."""
        done = jobs.execute_job(str(job.id))
        deadline = time.monotonic() + 300
        while done is None or not done.is_finished:
            if time.monotonic() > deadline:
                raise RuntimeError(f"The demo job {job.id} did not finish.")
            time.sleep(0.5)
            done = Job.objects.get(id=job.id)
        if done.status != Job.Status.COMPLETED:
            raise RuntimeError(f"The demo job {job.kind} failed: {done.error}")
        return done

    def fill_library(self, shop: Shop, user: Any) -> None:
        """Generate, cut out and list: each step is a real job, charged to the demo credits and
        run here in the command (the worker finds them already done)."""
        from mockups import actions as mockups
        from mockups.products import find_template

        made: dict[str, Asset] = {}
        for key, prompt, ratio, seed in DEMO_DESIGNS:
            spec = jobs.GenerationSpec(prompt=prompt, aspect_ratio=ratio, count=1, seed=seed)
            job = jobs.submit_generation(shop, spec, user=user, source="demo")
            made[key] = self.run(job).outputs.get()
            self.stdout.write(f"  drew “{prompt}”")
        for key in DEMO_CUTOUTS:
            job = operations.submit_operation(
                shop, made[key], "remove-background", {}, user, source="demo"
            )
            made[f"{key}:cutout"] = self.run(job).outputs.get()
            self.stdout.write(f"  cut out “{made[key].prompt}”")
        for product, design, variant, title, price, placement in DEMO_LISTINGS:
            mockups.create_listing(
                shop,
                template=find_template(shop, product),
                asset=made[design],
                variant=variant,
                placement=placement,
                title=title,
                price_cents=price,
                description="A demo listing: open its buy link to see the order page.",
                sizes=["S", "M", "L", "XL"] if product == "tshirt" else [],
            )
        self.stdout.write(f"  listed {len(DEMO_LISTINGS)} products")
