from __future__ import annotations

from django.apps import AppConfig


class MockupsConfig(AppConfig):
    name = "mockups"
    verbose_name = "Mockups"
