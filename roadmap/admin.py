"""Django admin for the roadmap: a support tool for superusers, not the product UI.

Each capability registers its models in its own ``admin.py`` (planning, evidence, strategy,
sharing, integrations), on the bases of ``roadmap/admin_base.py``; importing them here is what
Django's admin autodiscovery (which imports ``roadmap.admin``) registers. Every admin that adds,
changes or deletes rows does it through the slice's services, so an admin edit leaves the same
trace and meets the same rules as the app's (a service's refusal shows on the form); logs are
view-only. This module also serves the queue health page (routed by config/admin.py).
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from roadmap import queue_health as health
from roadmap.evidence import admin as evidence_admin
from roadmap.integrations import admin as integrations_admin
from roadmap.planning import admin as planning_admin
from roadmap.portal import admin as portal_admin
from roadmap.sharing import admin as sharing_admin
from roadmap.strategy import admin as strategy_admin

SLICES = (
    planning_admin,
    evidence_admin,
    strategy_admin,
    sharing_admin,
    integrations_admin,
    portal_admin,
)


def queue_health(request):
    """Background work at a glance: stale scores, unsent digests, undelivered webhooks, broker.

    Staff only (routed by config/admin.py through ``admin_view``); each list also needs the
    permission to view its model, as on the model's own admin pages.
    """
    user = request.user
    context = {
        **admin.site.each_context(request),
        "title": _("Queue health"),
        "recomputes": (
            health.pending_recomputes() if user.has_perm("roadmap.view_product") else None
        ),
        "digests": (
            health.unsent_digests() if user.has_perm("roadmap.view_digestdelivery") else None
        ),
        "webhooks": (
            health.undelivered_webhooks() if user.has_perm("roadmap.view_webhookdelivery") else None
        ),
        "broker": health.broker_status(),
        "overdue_minutes": int(health.RECOMPUTE_OVERDUE.total_seconds() // 60),
    }
    return TemplateResponse(request, "admin/queue_health.html", context)
