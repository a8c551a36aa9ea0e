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
        from generations import (
            model_configs,  # noqa: F401
            operations,  # noqa: F401
            pricing,  # noqa: F401
            webhooks,
        )
        from generations.chat import actions  # noqa: F401 - the `chat` job runner
        from generations.signals import job_finished

        # Every finished job is POSTed to its shop's webhook endpoints.
        job_finished.connect(webhooks.on_job_finished, dispatch_uid="webhooks.endpoints")
