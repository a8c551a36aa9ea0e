from __future__ import annotations

from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations: library, presets, jobs"

    def ready(self) -> None:
        from generations.engines import registry

        # Every engine module registers now, explicitly, rather than whenever the first lookup or
        # an import elsewhere happens to load them.
        registry.load_engines()
        # Registers the runners for image-operation job kinds (generations.actions.RUNNERS).
        # Registers the design chat's runner (generations.chat.actions).
        # Connects the cache invalidation of the price table and of staff's model rows.
        from django.db.models.signals import post_delete, post_save

        from generations import (
            job_events,
            library,
            model_configs,
            operations,  # noqa: F401
            pricing,  # noqa: F401
            webhooks,
        )
        from generations.chat import actions  # noqa: F401 - the `chat` job runner
        from generations.engines import catalog
        from generations.models import Asset
        from generations.signals import job_finish_written, job_finished
        from studio.models import Shop

        # Staff's model rows reach the engine catalogue as plain values (engines import no models).
        catalog.use_staff_models(model_configs.staff_models)
        # Every finished job is POSTed to its shop's webhook endpoints, and announced at its
        # commit to the synchronous API requests waiting for it (generations.job_events).
        job_finished.connect(webhooks.on_job_finished, dispatch_uid="webhooks.endpoints")
        job_finish_written.connect(job_events.announce_finished, dispatch_uid="job_events.announce")
        # The API library's per-shop count of generated assets (generations.library).
        post_save.connect(library.asset_saved, sender=Asset, dispatch_uid="library_count_save")
        post_delete.connect(library.asset_deleted, sender=Asset, dispatch_uid="library_count_del")
        post_save.connect(library.shop_saved, sender=Shop, dispatch_uid="library_count_shop")
