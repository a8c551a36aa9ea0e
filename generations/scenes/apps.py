from __future__ import annotations

from django.apps import AppConfig


class ScenesConfig(AppConfig):
    name = "generations.scenes"
    label = "scenes"
    verbose_name = "Scenes: product photos in a described scene"

    def ready(self) -> None:
        # Registers the `scene` job runner and the webhook_url finish hook in web and workers.
        from generations.scenes import jobs  # noqa: F401
