from __future__ import annotations

from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations: library, presets, jobs"

    def ready(self) -> None:
        # Registers the runners for image-operation job kinds (generations.actions.RUNNERS).
        # Registers the design chat's runner (generations.chat.actions).
        # Registers the webhook finish hook and its Celery tasks in web and worker processes.
        from django.db.models.signals import post_delete, post_save

        from generations import (
            job_events,  # noqa: F401 - announces finished jobs to waiting requests
            library,
            operations,  # noqa: F401
            webhooks,  # noqa: F401
        )
        from generations.chat import actions  # noqa: F401 - the `chat` job runner
        from generations.models import Asset
        from studio.models import Shop

        # The API library's per-shop count of generated assets (generations.library).
        post_save.connect(library.asset_saved, sender=Asset, dispatch_uid="library_count_save")
        post_delete.connect(library.asset_deleted, sender=Asset, dispatch_uid="library_count_del")
        post_save.connect(library.shop_saved, sender=Shop, dispatch_uid="library_count_shop")
