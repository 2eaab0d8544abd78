"""Django admin for people and workspaces: a support tool for superusers, not the product UI.

Tokens and invitations are created by their services (the secret is shown or emailed once), so
the admin only lists them and lets a superuser revoke them, through the services that revoke them
in the app (``api_token_revoke``, ``invitation_revoke_by_staff``).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.addresses import normalize_email
from accounts.models import ApiToken, Invitation, Membership, User, Workspace
from accounts.services import invitation_revoke_by_staff, membership_end_access
from accounts.tokens import api_token_revoke


class _NormalisedEmailMixin:
    """Email addresses are stored normalised (accounts/addresses.py) and unique in that form."""

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        others = User.objects.filter(email=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise self.instance.unique_error_message(User, ["email"])
        return email


class UserCreationForm(_NormalisedEmailMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(_NormalisedEmailMixin, DjangoUserChangeForm):
    class Meta:
        model = User
        fields = ("email",)


class _EndsAccessOfRemovedMembers:
    """A membership deleted in an inline ends what it gave, as removal on the members page does."""

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for membership in getattr(formset, "deleted_objects", ()):
            if isinstance(membership, Membership):
                membership_end_access(user=membership.user, workspace=membership.workspace)


class MembershipOfUserInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("workspace",)
    fields = ("workspace", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(_EndsAccessOfRemovedMembers, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("display_name",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "display_name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "display_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    inlines = (MembershipOfUserInline,)
    show_full_result_count = False

    def get_inlines(self, request, obj):
        # A new user joins workspaces once they exist (here, or by accepting an invitation).
        return self.inlines if obj else ()


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Workspace)
class WorkspaceAdmin(_EndsAccessOfRemovedMembers, admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Deleting memberships here ends what they gave, as removal on the members page does."""

    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "workspace")
    list_select_related = ("user", "workspace")
    search_fields = ("user__email", "user__display_name", "workspace__name")
    autocomplete_fields = ("user", "workspace")
    readonly_fields = ("created_at", "updated_at")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        membership_end_access(user=obj.user, workspace=obj.workspace)

    def delete_queryset(self, request, queryset):
        removed = list(queryset.select_related("user", "workspace"))
        super().delete_queryset(request, queryset)
        for membership in removed:
            membership_end_access(user=membership.user, workspace=membership.workspace)


class _RevocableAdmin(admin.ModelAdmin):
    """Rows that services create with a secret: listed, revocable (by the service that revokes
    one in the app), never added here."""

    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    def revoke_one(self, obj) -> None:
        raise NotImplementedError

    @admin.action(description=_("Revoke selected"))
    def revoke(self, request, queryset):
        rows = list(queryset.filter(revoked_at__isnull=True))
        for row in rows:
            self.revoke_one(row)
        self.message_user(request, _("%(count)d revoked.") % {"count": len(rows)})


@admin.register(Invitation)
class InvitationAdmin(_RevocableAdmin):
    list_display = (
        "email",
        "workspace",
        "role",
        "invited_by",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("role", "workspace", "accepted_at", "revoked_at")
    list_select_related = ("workspace", "invited_by")
    search_fields = ("email", "workspace__name")
    raw_id_fields = ("workspace", "invited_by", "accepted_by")
    readonly_fields = (
        "token_hash",
        "invited_by",
        "accepted_at",
        "accepted_by",
        "created_at",
        "updated_at",
    )

    def revoke_one(self, obj) -> None:
        invitation_revoke_by_staff(invitation=obj)


@admin.register(ApiToken)
class ApiTokenAdmin(_RevocableAdmin):
    list_display = (
        "name",
        "prefix",
        "user",
        "workspace",
        "scope",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope", "workspace", "revoked_at")
    list_select_related = ("user", "workspace")
    search_fields = ("name", "prefix", "user__email", "workspace__name")
    raw_id_fields = ("user", "workspace")
    readonly_fields = ("prefix", "token_hash", "last_used_at", "created_at", "updated_at")

    def revoke_one(self, obj) -> None:
        api_token_revoke(token=obj)
