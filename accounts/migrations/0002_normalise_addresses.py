"""Store every user's and invitation's address in its one spelling (accounts/addresses.py).

Two users whose addresses become the same once normalised (``Sam@x`` and ``ſam@x``) are never
merged or renamed here: the migration stops, changes nothing, and names both accounts, so that an
operator decides (change one address in the admin, or delete the unused account) and runs it again.
Invitations have no uniqueness to break: they are normalised as they are.
"""

from collections import defaultdict

from django.db import migrations

from accounts.addresses import normalize_email


def normalise_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Invitation = apps.get_model("accounts", "Invitation")
    spellings = defaultdict(list)
    for pk, email in User.objects.order_by("pk").values_list("pk", "email"):
        spellings[normalize_email(email)].append((pk, email))
    collisions = {address: users for address, users in spellings.items() if len(users) > 1}
    if collisions:
        listed = "; ".join(
            f"{address}: " + ", ".join(f"user {pk} <{email}>" for pk, email in users)
            for address, users in sorted(collisions.items())
        )
        raise RuntimeError(
            "These accounts' email addresses are one address once normalised (NFKC, casefold), "
            f"so they cannot be told apart at login: {listed}. Nothing was changed. Give all but "
            "one of each group another address (or delete the unused account), then migrate again."
        )
    for address, [(pk, email)] in spellings.items():
        if email != address:
            User.objects.filter(pk=pk).update(email=address)
    for pk, email in Invitation.objects.values_list("pk", "email"):
        if normalize_email(email) != email:
            Invitation.objects.filter(pk=pk).update(email=normalize_email(email))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(normalise_addresses, migrations.RunPython.noop)]
