from __future__ import annotations

from django.apps import AppConfig


class ScenesConfig(AppConfig):
    name = "generations.scenes"
    label = "scenes"
    verbose_name = "Scenes: product photos in a described scene"

    def ready(self) -> None:
        # Registers the `scene` job runner in web and workers, and delivers a scene request's
        # webhook_url when its job finishes.
        from generations.scenes import jobs
        from generations.signals import job_finished

        job_finished.connect(jobs.on_job_finished, dispatch_uid="scenes.webhook_url")
