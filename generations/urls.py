from __future__ import annotations

from django.urls import path

from generations import chat_views, ops_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("generate/", views.generate, name="generate"),
    path("generate/preset-fields/", views.preset_fields, name="preset_fields"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("library/", views.library, name="library"),
    path("library/upload/", views.upload, name="upload"),
    path("library/bulk/", views.library_bulk, name="library_bulk"),
    path("library/<uuid:asset_id>/", views.asset_detail, name="asset_detail"),
    path("library/<uuid:asset_id>/download/", views.asset_download, name="asset_download"),
    path("library/<uuid:asset_id>/delete/", views.asset_delete, name="asset_delete"),
    path("library/<uuid:asset_id>/public/", views.asset_public, name="asset_public"),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/<uuid:asset_id>/", views.gallery_detail, name="gallery_detail"),
    path("gallery/<uuid:asset_id>/report/", views.gallery_report, name="gallery_report"),
    path("gallery/<uuid:asset_id>/file/", views.public_asset_file, name="public_asset_file"),
    path("gallery/<uuid:asset_id>/thumb/", views.public_asset_thumb, name="public_asset_thumb"),
    path("presets/", views.preset_list, name="preset_list"),
    path("presets/new/", views.preset_edit, name="preset_new"),
    path("presets/<uuid:preset_id>/", views.preset_edit, name="preset_edit"),
    path("presets/<uuid:preset_id>/delete/", views.preset_delete, name="preset_delete"),
    path("models", views.models_json, name="models_json"),
    # The design chat (generations/chat_views.py)
    path("chat/", chat_views.chat, name="chat"),
    path("chat/send/", chat_views.chat_send, name="chat_send"),
    path("chat/<uuid:conversation_id>/", chat_views.chat_conversation, name="chat_conversation"),
    path("chat/turns/<uuid:turn_id>/", chat_views.chat_turn, name="chat_turn"),
    path("chat/turns/<uuid:turn_id>/events/", chat_views.chat_turn_events, name="chat_turn_events"),
    path("chat/turns/<uuid:turn_id>/keep/", chat_views.chat_keep, name="chat_keep"),
    path(
        "chat/turns/<uuid:turn_id>/regenerate/",
        chat_views.chat_regenerate,
        name="chat_regenerate",
    ),
    path("chat/turns/<uuid:turn_id>/cancel/", chat_views.chat_cancel, name="chat_cancel"),
    path(
        "library/<uuid:asset_id>/operations/<slug:operation>/",
        ops_views.operation_submit,
        name="asset_operation",
    ),
]
