from __future__ import annotations

from django.urls import path

from generations.scenes import views

urlpatterns = [
    path("product-photos/", views.product_photos, name="product_photos"),
    path("product-photos/jobs/<uuid:job_id>/", views.scene_job, name="product_photos_job"),
    path("product-photos/presets/", views.preset_save, name="product_photos_preset_save"),
    path(
        "product-photos/presets/<uuid:preset_id>/delete/",
        views.preset_delete,
        name="product_photos_preset_delete",
    ),
]
