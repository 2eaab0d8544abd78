from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.addresses import normalize_email
from accounts.models import Membership, TokenScope, User
from accounts.tokens import api_token_issue


class Command(BaseCommand):
    help = "Issue a personal API token for a user. Prints only the token on stdout."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument("--workspace", metavar="SLUG", help="Default: the user's first.")
        parser.add_argument("--name", default="Command-line token")

    def handle(self, *args, email, scope, expires_days, workspace, name, **options):
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None:
            raise CommandError(f"No user with email {email}.")
        memberships = Membership.objects.filter(user=user).select_related("workspace")
        if workspace:
            memberships = memberships.filter(workspace__slug=workspace)
        membership = memberships.order_by("workspace__name", "workspace_id").first()
        if membership is None:
            raise CommandError(f"{email} is not a member of {workspace or 'any workspace'}.")
        try:
            _, raw = api_token_issue(
                user=user,
                workspace=membership.workspace,
                name=name,
                scope=scope,
                expires_in_days=expires_days,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(raw)
