"""Routes of the HTTP API (seed families 000, 001, 002, 003 and the platform) and its owner pages."""

from __future__ import annotations

from django.urls import path

from generations.api import (
    ai,
    ai_generations,
    chat,
    openapi,
    pages,
    platform,
    v0,
    v1_generate,
    v1_images,
    v1_tasks,
)

urlpatterns = [
    # Platform
    path("shops/sandbox", platform.sandbox_view, name="api_sandbox"),
    path("uploads", platform.uploads_view, name="api_uploads"),
    # Seed 000
    path("ai-generations/generate", ai_generations.generate_view, name="api_000_generate"),
    path(
        "ai-generations/remove-background",
        ai_generations.remove_background_view,
        name="api_000_remove_background",
    ),
    path(
        "ai-generations/generate-video",
        ai_generations.generate_video_view,
        name="api_000_generate_video",
    ),
    # The chat orchestrator (before <generation_id>, which would take "chat").
    path("ai-generations/chat/start", chat.chat_start_view, name="api_000_chat_start"),
    path("ai-generations/chat/jobs/<str:job_id>", chat.chat_job_view, name="api_000_chat_job"),
    path("ai-generations/chat/stream", chat.chat_stream_view, name="api_000_chat_stream"),
    path(
        "ai-generations/<str:generation_id>",
        ai_generations.generation_view,
        name="api_000_generation",
    ),
    # Seed 002
    path("v0/images/generations", v0.generations_view, name="api_002_generations"),
    path("v0/images/generations/<str:job_id>", v0.generation_view, name="api_002_generation"),
    path("v0/images/library", v0.library_view, name="api_002_library"),
    path("v0/images/library/<str:image_id>", v0.library_detail_view, name="api_002_image"),
    path(
        "v0/images/library/<str:image_id>/download",
        v0.library_download_view,
        name="api_002_download",
    ),
    path("v0/usage", v0.usage_view, name="api_002_usage"),
    # Seed 003
    path("ai/generate-image", ai.generate_image_view, name="api_003_generate_image"),
    path("v1/posts", ai.posts_view, name="api_003_posts"),
    # Seed 001: every route at its path and at its legacy path
    *(
        pattern
        for path_, legacy_path, view, legacy_view in v1_images.VIEWS
        for pattern in (
            path(path_, view, name=f"api_001_{path_.removeprefix('v1/images/')}"),
            path(
                legacy_path, legacy_view, name=f"api_001_legacy_{path_.removeprefix('v1/images/')}"
            ),
        )
    ),
    path("v1/tasks/<str:task_id>", v1_tasks.task_view, name="api_001_task"),
    path("v1/health", v1_tasks.health_view, name="api_001_health"),
    # Seed 004
    path("v1/generate", v1_generate.generate_view, name="api_004_generate"),
    path("v1/jobs", v1_generate.jobs_view, name="api_004_jobs"),
    path("v1/jobs/<str:job_id>", v1_generate.job_view, name="api_004_job"),
    path("v1/jobs/<str:job_id>/cancel", v1_generate.job_cancel_view, name="api_004_job_cancel"),
    path("v1/presets", v1_generate.presets_view, name="api_004_presets"),
    # Reference
    path("api/openapi.json", openapi.schema_view, name="api_openapi"),
    path("api/docs", openapi.docs_view, name="api_docs"),
    # Owner pages
    path("api-keys/", pages.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", pages.api_key_revoke, name="api_key_revoke"),
    path("webhooks/", pages.webhook_list, name="webhook_list"),
    path("webhooks/<int:endpoint_id>/delete/", pages.webhook_delete, name="webhook_delete"),
    path("posts/", pages.post_list, name="post_list"),
    path("shops/claim/<str:token>/", pages.sandbox_claim, name="sandbox_claim"),
]
