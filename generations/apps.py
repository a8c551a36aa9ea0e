from __future__ import annotations

from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations: library, presets, jobs"

    def ready(self) -> None:
        # Registers the runners for image-operation job kinds (generations.actions.RUNNERS).
        # Registers the design chat's runner (generations.chat.actions).
        # Registers the webhook finish hook and its Celery tasks in web and worker processes.
        # Connects the cache invalidation of the price table and of staff's model rows.
        from generations import (
            model_configs,  # noqa: F401
            operations,  # noqa: F401
            pricing,  # noqa: F401
            webhooks,  # noqa: F401
        )
        from generations.chat import actions  # noqa: F401 - the `chat` job runner
