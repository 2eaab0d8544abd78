"""Admin of sharing: share links, digest subscriptions and their deliveries, change events.

Share links are only revoked here (through the share page's service). Subscribers are added
(confirmed at once, as a PM adds them) and removed through the digest services; a subscription's
schedule and consent are its subscriber's to change, so it is read-only once made. Change events
and digest deliveries are logs: view-only.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from roadmap.admin_base import TIMESTAMPS, ServiceWritesAdmin, ViewOnlyAdmin
from roadmap.models import ChangeEvent, DigestDelivery, ShareLink, Subscription
from roadmap.sharing.services import digests as digest_services
from roadmap.sharing.services.sharing import share_link_revoke

# When a subscriber's digest goes out, as ``subscription_add`` takes it.
_SCHEDULE = ("frequency", "weekday", "send_time", "timezone")


@admin.register(ShareLink)
class ShareLinkAdmin(ViewOnlyAdmin):
    """The token is never stored (only its hash and salt, not shown here): the share page shows
    a link's address. Links are made on the share page (a link made here could never be opened)
    and never edited or deleted in the app: here they can only be revoked, by the share page's
    service (``share_link_revoke``)."""

    list_display = (
        "label",
        "product",
        "audience",
        "expires_at",
        "revoked_at",
        "view_count",
        "last_viewed_at",
    )
    list_filter = ("audience", "revoked_at", "product")
    list_select_related = ("product",)
    search_fields = ("label", "product__name")
    autocomplete_fields = ("product",)
    raw_id_fields = ("created_by",)
    actions = ("revoke",)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("roadmap.change_sharelink")

    @admin.action(description=_("Revoke selected share links"), permissions=["revoke"])
    def revoke(self, request, queryset):
        links = list(queryset.filter(revoked_at__isnull=True))
        for link in links:
            share_link_revoke(share_link=link)
        self.message_user(request, _("%(count)d revoked.") % {"count": len(links)})


class SubscriptionAddForm(forms.ModelForm):
    def _get_validation_exclusions(self):
        # Whether the address follows the roadmap already is ``subscription_add``'s to say (the
        # model's constraint would only name itself); the service validates the whole row.
        return {*super()._get_validation_exclusions(), "email"}


@admin.register(Subscription)
class SubscriptionAdmin(ServiceWritesAdmin):
    """Added by ``subscription_add`` (an address already following gets the service's error on
    its field) and deleted by ``subscription_remove``."""

    form = SubscriptionAddForm

    list_display = (
        "email",
        "product",
        "share_link",
        "frequency",
        "confirmed_at",
        "unsubscribed_at",
        "sent_through",
    )
    list_filter = ("frequency", "confirmed_at", "unsubscribed_at", "product")
    list_select_related = ("product", "share_link")
    search_fields = ("email", "name", "product__name")
    autocomplete_fields = ("product",)
    raw_id_fields = ("share_link", "user")
    fields = (
        "product",
        "share_link",
        "email",
        "name",
        "user",
        *_SCHEDULE,
        "confirmed_at",
        "unsubscribed_at",
        "sent_through",
        *TIMESTAMPS,
    )
    readonly_fields = ("confirmed_at", "unsubscribed_at", "sent_through", *TIMESTAMPS)

    def has_change_permission(self, request, obj=None):
        return False

    def service_save(self, request, form, stored):
        data = form.cleaned_data
        return digest_services.subscription_add(
            product=data["product"],
            email=data["email"],
            name=data["name"],
            share_link=data["share_link"],
            user=data["user"],
            **{name: data[name] for name in _SCHEDULE},
        )

    def service_delete(self, request, obj) -> None:
        digest_services.subscription_remove(subscription=obj)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ViewOnlyAdmin):
    list_display = ("subscription__email", "period", "status", "attempts", "sent_at")
    list_filter = ("status",)
    list_select_related = ("subscription",)
    search_fields = ("subscription__email", "period")
    raw_id_fields = ("subscription",)


@admin.register(ChangeEvent)
class ChangeEventAdmin(ViewOnlyAdmin):
    list_display = ("kind", "product", "item", "feature", "actor", "occurred_at")
    list_filter = ("kind", "product")
    list_select_related = ("product", "item__feature", "feature", "actor")
    search_fields = ("feature__title", "item__title", "product__name")
    raw_id_fields = ("product", "item", "feature", "actor")
