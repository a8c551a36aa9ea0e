"""PostgreSQL only: a trigram index so a prompt-word search (search_text LIKE '%word%') that matches
few assets does not read the whole shop. Common words keep using the keyset index; the planner
picks. Skipped on SQLite, and skipped with a warning if the pg_trgm extension is unavailable."""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        log.warning("pg_trgm is not available (%s); prompt search stays unindexed", exc)
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS asset_search_trgm ON generations_asset "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS asset_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("generations", "0003_asset_shop_model_index")]

    operations = [migrations.RunPython(create, drop)]
