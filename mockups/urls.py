from __future__ import annotations

from django.urls import path

from mockups import views

urlpatterns = [
    path("m/<slug:template_slug>", views.mockup_image, name="mockup_image"),
    path("buy/<str:token>/", views.listing_page, name="listing_page"),
    path("mockups/", views.editor, name="mockup_editor"),
    path("mockups/preview/", views.editor_preview, name="mockup_preview"),
    path("mockups/products/", views.product_picker, name="mockup_products"),
    path("mockups/designs/", views.design_picker, name="mockup_designs"),
    path(
        "mockups/remove-background/",
        views.remove_background_first,
        name="mockup_remove_background",
    ),
    path(
        "mockups/remove-background/<uuid:job_id>/",
        views.background_job,
        name="mockup_background_job",
    ),
    path("mockups/sheet/", views.sheet, name="mockup_sheet"),
    path("mockups/templates/", views.template_list, name="mockup_templates"),
    path("mockups/templates/<uuid:template_id>/", views.template_edit, name="mockup_template_edit"),
    path(
        "mockups/templates/<uuid:template_id>/preview",
        views.template_preview,
        name="mockup_template_preview",
    ),
    path(
        "mockups/templates/<uuid:template_id>/photo",
        views.template_photo,
        name="mockup_template_photo",
    ),
    path(
        "mockups/templates/<uuid:template_id>/delete/",
        views.template_delete,
        name="mockup_template_delete",
    ),
    path("mockups/settings/", views.url_settings, name="mockup_settings"),
    path("mockups/listings/", views.listing_list, name="mockup_listings"),
    path(
        "mockups/listings/<uuid:listing_id>/toggle/",
        views.listing_toggle,
        name="mockup_listing_toggle",
    ),
    path(
        "mockups/listings/<uuid:listing_id>/delete/",
        views.listing_delete,
        name="mockup_listing_delete",
    ),
    path("mockups/orders/", views.order_list, name="mockup_orders"),
    path("mockups/orders/<int:order_id>/status/", views.order_status, name="mockup_order_status"),
]
