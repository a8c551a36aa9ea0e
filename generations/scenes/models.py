"""Scene presets a shop keeps: a named scene description with the choices it pins."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations.scenes.spec import CAMERAS, LIGHT_CHOICES, SURFACES
from studio.models import Shop

ASPECT_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16")  # seed 004's five


class ScenePreset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="scene_presets")
    name = models.CharField(max_length=80)
    prompt = models.TextField(help_text="The scene, in words: surface, colours, props, light.")
    surface = models.CharField(
        max_length=20, blank=True, choices=[(k, s.label) for k, s in SURFACES.items()]
    )
    light = models.CharField(
        max_length=20, blank=True, choices=[(k, k.capitalize()) for k in LIGHT_CHOICES]
    )
    camera = models.CharField(max_length=8, blank=True, choices=[(c, c) for c in CAMERAS])
    aspect_ratio = models.CharField(
        max_length=5, default="1:1", choices=[(a, a) for a in ASPECT_RATIOS]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="one_scene_preset_name_per_shop")
        ]

    def __str__(self) -> str:
        return self.name
