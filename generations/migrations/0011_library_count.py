"""The API library's per-shop count of generated assets (filled here for existing shops), and its
keyset index with the id as tie-breaker, so OFFSET pages scan the index alone."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def count_existing(apps, schema_editor):
    Asset = apps.get_model("generations", "Asset")
    LibraryCount = apps.get_model("generations", "LibraryCount")
    Shop = apps.get_model("studio", "Shop")
    counts = dict(
        Asset.objects.filter(kind="generated")
        .order_by()
        .values_list("shop_id")
        .annotate(n=models.Count("*"))
    )
    LibraryCount.objects.bulk_create(
        [LibraryCount(shop_id=pk, generated=counts.get(pk, 0)) for pk in Shop.objects.values_list("pk", flat=True)],
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('generations', '0010_design_chat'),
        ('studio', '0006_signed_mockup_urls_by_default'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LibraryCount',
            fields=[
                ('shop', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='library_count', serialize=False, to='studio.shop')),
                ('generated', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='asset',
            name='asset_shop_kind',
        ),
        migrations.AddIndex(
            model_name='asset',
            index=models.Index(fields=['shop', 'kind', '-created_at', '-id'], name='asset_shop_kind_keyset'),
        ),
    ]
