from __future__ import annotations

from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio: shops, members, credits"

    def ready(self) -> None:
        # A key saved or deleted (the admin, a cascade), or its shop saved, leaves the per-process
        # cache of authenticated keys at once (studio/apikeys.py).
        from django.db.models.signals import post_delete, post_save

        from studio import apikeys
        from studio.models import ApiKey, Shop

        post_save.connect(apikeys.key_changed, sender=ApiKey, dispatch_uid="apikey-cache-save")
        post_delete.connect(apikeys.key_changed, sender=ApiKey, dispatch_uid="apikey-cache-del")
        post_save.connect(apikeys.shop_changed, sender=Shop, dispatch_uid="shop-apikey-cache")

        # The moderator and support groups get exactly their permissions after every migrate.
        from django.db.models.signals import post_migrate

        from studio.staff import sync_staff_groups

        post_migrate.connect(sync_staff_groups, dispatch_uid="studio-staff-groups")
