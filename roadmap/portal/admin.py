"""Admin of the voice of the customer: requests, votes, contacts and "it's live" notices, read
for support; the only writes are deletions, through the portal's services (a vote's insight
goes with it; a request is marked as spam, never deleted, so its evidence leaves cleanly)."""

from django.contrib import admin

from roadmap.admin_base import ViewOnlyAdmin, ViewOnlyInline
from roadmap.models import Contact, FeatureRequest, Requester, ShipNotice, Vote
from roadmap.portal import services


@admin.register(Requester)
class RequesterAdmin(ViewOnlyAdmin):
    list_display = ("contact", "request", "confirmed_at")
    list_select_related = ("contact", "request")
    search_fields = ("contact__email", "request__title")

    def has_delete_permission(self, request, obj=None):
        return False


class RequesterInline(ViewOnlyInline, admin.TabularInline):
    model = Requester
    fields = ("contact", "title", "confirmed_at", "insight")
    readonly_fields = fields
    extra = 0


@admin.register(FeatureRequest)
class FeatureRequestAdmin(ViewOnlyAdmin):
    list_display = ("title", "product", "status", "source", "importance", "created_at")
    list_filter = ("status", "source", "product")
    list_select_related = ("product",)
    search_fields = ("title", "description")
    inlines = (RequesterInline,)
    actions = ("mark_spam",)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark as spam (deletes their insights)", permissions=["view"])
    def mark_spam(self, request, queryset):
        for feature_request in queryset.exclude(status__in=("spam", "merged")):
            services.request_mark_spam(request=feature_request)


@admin.register(Vote)
class VoteAdmin(ViewOnlyAdmin):
    list_display = ("contact", "item", "confirmed_at", "created_at")
    list_select_related = ("contact", "item")
    search_fields = ("contact__email",)

    def delete_model(self, request, obj):
        services.vote_delete(vote=obj)

    def delete_queryset(self, request, queryset):
        for vote in queryset.select_related("insight"):
            services.vote_delete(vote=vote)


@admin.register(Contact)
class ContactAdmin(ViewOnlyAdmin):
    list_display = ("email", "product", "customer", "confirmed_at", "notify")
    list_filter = ("notify", "product")
    list_select_related = ("product", "customer")
    search_fields = ("email",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShipNotice)
class ShipNoticeAdmin(ViewOnlyAdmin):
    list_display = ("contact", "feature", "status", "attempts", "sent_at")
    list_filter = ("status",)
    list_select_related = ("contact", "feature")
    search_fields = ("contact__email", "feature__title")

    def has_delete_permission(self, request, obj=None):
        return False
