"""Forget the names strangers typed into the digest sign-up form (issue 16.7).

The form no longer asks for a name; the ones it took were greeted in every digest, though whoever
typed them need not own the address. A self sign-up is a share-link subscription confirmed after
it was made (or not yet); a PM's own additions are confirmed as they are made and keep their name.
"""

from django.db import migrations
from django.db.models import F, Q


def forget_signup_names(apps, schema_editor):
    Subscription = apps.get_model("roadmap", "Subscription")
    Subscription.objects.filter(share_link__isnull=False).exclude(name="").filter(
        Q(confirmed_at__isnull=True) | Q(confirmed_at__gt=F("created_at"))
    ).update(name="")


class Migration(migrations.Migration):
    dependencies = [
        ("roadmap", "0011_launch_lead_days"),
    ]

    operations = [
        migrations.RunPython(forget_signup_names, migrations.RunPython.noop, elidable=True),
    ]
