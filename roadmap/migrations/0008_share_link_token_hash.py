"""Share links keep a hash of their token, not the token (issue 16.12).

Existing links keep working: their token's hash is stored and the token dropped. Their address
can't be shown again (they have no salt); new links derive theirs from a salt and SECRET_KEY.
"""

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    ShareLink = apps.get_model("roadmap", "ShareLink")
    for link in ShareLink.objects.only("pk", "token").iterator():
        ShareLink.objects.filter(pk=link.pk).update(
            token_hash=hashlib.sha256(link.token.encode()).hexdigest()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("roadmap", "0007_product_slug_per_workspace"),
    ]

    operations = [
        migrations.AddField(
            model_name="sharelink",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="token_salt",
            field=models.CharField(blank=True, editable=False, max_length=32, default=""),
            preserve_default=False,
        ),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="sharelink",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.RemoveField(model_name="sharelink", name="token"),
    ]
