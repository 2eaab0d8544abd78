# Issue 20: the single-column indexes on roadmap_feature.product_id and roadmap_product.workspace_id
# are covered by composites that lead with the same column ((product, rank), (product, status),
# (product, updated_at); (workspace, id), (workspace, slug)), which serve the same lookups and the
# foreign keys' checks. Only the indexes are dropped: AlterField alone would also drop and re-add
# the foreign keys, which re-validates every row of a table of millions under a lock.

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("roadmap_feature_product_id_59ba41c0", "roadmap_feature", "product_id"),
    ("roadmap_product_workspace_id_b45d5f5d", "roadmap_product", "workspace_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_normalise_addresses"),
        ("roadmap", "0015_release_notes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="feature",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="features",
                        to="roadmap.product",
                    ),
                ),
                migrations.AlterField(
                    model_name="product",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="products",
                        to="accounts.workspace",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in INDEXES
            ],
        ),
    ]
