"""Launch readiness pages: a product's releases at a glance, a release's checklist by team with
what blocks it and the button that ships it, and the workspace's launch checklist template.

Members read; editors and admins work the checklists (viewers get 403, anyone else 404). Only
workspace admins edit the template and force a release that is not ready. Ticking a task off is
a plain form post; htmx saves the checkbox at once and swaps the task's row.
"""

from __future__ import annotations

import copy

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from roadmap.access import product_for, role_allows
from roadmap.forms import submit
from roadmap.models import LaunchTask, LaunchTemplateTask, Product, Release
from roadmap.strategy.selectors import launch as selectors
from roadmap.strategy.services import launch as services
from roadmap.strategy.views.strategy import DATE, ServiceModelForm

# --- Forms ----------------------------------------------------------------------------------------


class ReleaseNotesForm(forms.Form):
    public_summary = forms.CharField(
        label="Summary for customers",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown. Shown above the release's shipped external items on every share "
        "link's release notes, and in the feed and digests once published.",
    )


class LaunchTaskForm(ServiceModelForm):
    class Meta:
        model = LaunchTask
        fields = ("team", "title", "owner", "due_on", "description")
        widgets = {"due_on": DATE, "description": forms.Textarea(attrs={"rows": 2})}
        labels = {"due_on": "Due on"}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.owner_choices(workspace_id=product.workspace_id)
        self.fields["owner"].empty_label = "No owner"
        self.fields["owner"].label_from_instance = lambda user: user.name


class LaunchTemplateTaskForm(ServiceModelForm):
    class Meta:
        model = LaunchTemplateTask
        fields = ("team", "title", "days_before_release", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


def _release(product: Product, pk: int) -> Release:
    return get_object_or_404(selectors.releases_of(product=product), pk=pk)


def _release_url(release: Release, anchor: str = "") -> str:
    url = reverse("roadmap:release", args=[release.product.slug, release.pk])
    return f"{url}#{anchor}" if anchor else url


# --- Releases ------------------------------------------------------------------------------------


@login_required
@require_GET
def releases(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's releases with their readiness at a glance: derived status, checklist
    progress, overdue tasks and items not started."""
    product = product_for(request, slug)
    context = {
        "product": product,
        "releases": selectors.releases_readiness(product=product),
    }
    return render(request, "roadmap/strategy/releases.html", context)


def _release_page(
    request: HttpRequest,
    product: Product,
    release: Release,
    *,
    task_form: LaunchTaskForm | None = None,
    ship_errors: list[str] | None = None,
    notes_form: ReleaseNotesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "notes_form": notes_form
        or ReleaseNotesForm(initial={"public_summary": release.public_summary}),
        "notes_items": list(selectors.release_shipped_external_items(release=release)),
        "product": product,
        "release": release,
        "readiness": selectors.release_readiness(release=release),
        "task_form": task_form or LaunchTaskForm(product=product),
        "ship_errors": ship_errors or [],
        "is_admin": role_allows(product.my_role, admin=True),
        "today": timezone.localdate(),
    }
    return render(request, "roadmap/strategy/release.html", context, status=status)


@login_required
@require_GET
def release(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A release's launch: readiness at a glance, blockers, the checklist by team (owner, due
    date, done), its features and themes with their statuses, and the ship button."""
    product = product_for(request, slug)
    return _release_page(request, product, _release(product, pk))


@login_required
@require_POST
def release_notes(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Save the release's summary for customers and, by the button pressed, publish its release
    notes (``publish``) or take them back (``unpublish``) (editors)."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    action = request.POST.get("action", "save")
    publish = {"publish": True, "unpublish": False}.get(action)
    form = ReleaseNotesForm(request.POST)
    saved = submit(
        form,
        lambda: services.release_notes_save(
            release=release,
            public_summary=form.cleaned_data["public_summary"],
            publish=publish,
            actor=request.user,
        ),
    )
    if saved is None:
        return _release_page(request, product, release, notes_form=form, status=400)
    if publish:
        messages.success(request, f"Release notes of “{saved.name}” published on the share links.")
    elif publish is False:
        messages.success(request, f"Release notes of “{saved.name}” taken back.")
    else:
        messages.success(request, "Summary saved.")
    return redirect(_release_url(saved, "notes"))


@login_required
@require_POST
def release_checklist(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Copy the workspace's launch template into the release's checklist (editors); adds only
    the tasks not already there."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    try:
        added = services.release_checklist_create(release=release)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_release_url(release, "checklist"))
    if added:
        messages.success(
            request, f"{len(added)} task{'s' if len(added) != 1 else ''} added from the template."
        )
    else:
        messages.info(request, "The checklist already has every task of the template.")
    return redirect(_release_url(release, "checklist"))


@login_required
@require_POST
def launch_task_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Add a task to the release's checklist (editors)."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    form = LaunchTaskForm(request.POST, product=product)
    saved = submit(
        form,
        lambda: services.launch_task_save(
            release=release, data=form.service_data(), actor=request.user
        ),
    )
    if saved is None:
        return _release_page(request, product, release, task_form=form, status=400)
    messages.success(request, f"Task “{saved.title}” added.")
    return redirect(_release_url(release, f"task-{saved.pk}"))


def _task(release: Release, task_pk: int) -> LaunchTask:
    return get_object_or_404(selectors.launch_tasks_of(release=release), pk=task_pk)


@login_required
@require_http_methods(["GET", "POST"])
def launch_task_edit(request: HttpRequest, slug: str, pk: int, task_pk: int) -> HttpResponse:
    """Edit a checklist task: team, title, owner, due date (editors)."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    task = _task(release, task_pk)
    form = LaunchTaskForm(instance=task, product=product)
    status = 200
    if request.method == "POST":
        form = LaunchTaskForm(request.POST, instance=copy.copy(task), product=product)
        saved = submit(
            form,
            lambda: services.launch_task_save(
                release=release, data=form.service_data(), task=task, actor=request.user
            ),
        )
        if saved is not None:
            messages.success(request, f"Task “{saved.title}” saved.")
            return redirect(_release_url(release, f"task-{saved.pk}"))
        status = 400
    context = {"product": product, "release": release, "task": task, "form": form}
    return render(request, "roadmap/strategy/launch_task_edit.html", context, status=status)


@login_required
@vary_on_headers("HX-Request")
@require_POST
def launch_task_done(request: HttpRequest, slug: str, pk: int, task_pk: int) -> HttpResponse:
    """Tick a task off (``done`` sent) or reopen it (editors). htmx gets the task's row back
    (the page's readiness summary is refreshed by an out-of-band swap)."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    task = _task(release, task_pk)
    if request.POST.get("done"):
        services.launch_task_complete(task=task, actor=request.user)
    else:
        services.launch_task_reopen(task=task, actor=request.user)
    if request.htmx:
        context = {
            "product": product,
            "release": release,
            "task": _task(release, task_pk),
            "readiness": selectors.release_readiness(release=release),
            "can_edit": product.can_edit,
            "today": timezone.localdate(),
            "oob": True,
        }
        return render(request, "roadmap/strategy/_task_done.html", context)
    return redirect(_release_url(release, f"task-{task.pk}"))


@login_required
@require_POST
def launch_task_delete(request: HttpRequest, slug: str, pk: int, task_pk: int) -> HttpResponse:
    """Remove a task from the checklist (editors)."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    task = _task(release, task_pk)
    services.launch_task_delete(task=task)
    messages.success(request, f"Task “{task.title}” removed.")
    return redirect(_release_url(release, "checklist"))


@login_required
@require_POST
def release_ship(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Ship the release (editors; a release that is not ready only by an admin, with
    ``force``): its features and themes become shipped and stakeholders are told."""
    product = product_for(request, slug, edit=True)
    release = _release(product, pk)
    try:
        result = services.release_ship(
            release=release, actor=request.user, force=bool(request.POST.get("force"))
        )
    except ValidationError as error:
        return _release_page(request, product, release, ship_errors=error.messages, status=400)
    shipped = len(result.shipped)
    messages.success(
        request,
        f"“{release.name}” shipped: {shipped} item{'s' if shipped != 1 else ''} moved to shipped."
        + (" Shipped although not ready." if result.forced else ""),
    )
    return redirect(_release_url(release))


# --- The workspace's launch template -------------------------------------------------------------


def _membership(request: HttpRequest):
    if not request.membership:
        raise Http404("You are not a member of any workspace.")
    return request.membership


def _admin(request: HttpRequest):
    membership = _membership(request)
    if not membership.is_admin:
        raise PermissionDenied("Only a workspace admin can edit the launch template.")
    return membership


def _template_page(request, membership, *, form=None, status=200) -> HttpResponse:
    context = {
        "workspace": membership.workspace,
        "teams": selectors.launch_template(workspace=membership.workspace),
        "is_admin": membership.is_admin,
        "form": form or LaunchTemplateTaskForm(),
    }
    return render(request, "roadmap/strategy/launch_template.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def launch_template(request: HttpRequest) -> HttpResponse:
    """The current workspace's launch checklist template, by team: members read it, admins add
    tasks (POST)."""
    if request.method == "GET":
        return _template_page(request, _membership(request))
    membership = _admin(request)
    form = LaunchTemplateTaskForm(request.POST)
    saved = submit(
        form,
        lambda: services.launch_template_task_save(
            workspace=membership.workspace, data=form.service_data(), actor=request.user
        ),
    )
    if saved is None:
        return _template_page(request, membership, form=form, status=400)
    messages.success(request, f"“{saved.title}” added to the template.")
    return redirect(reverse("roadmap:launch_template") + f"#team-{saved.team}")


def _template_task(membership, pk: int) -> LaunchTemplateTask:
    return get_object_or_404(LaunchTemplateTask.objects.for_workspace(membership.workspace), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def launch_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a task of the template (admins)."""
    membership = _admin(request)
    task = _template_task(membership, pk)
    form = LaunchTemplateTaskForm(instance=task)
    status = 200
    if request.method == "POST":
        form = LaunchTemplateTaskForm(request.POST, instance=copy.copy(task))
        saved = submit(
            form,
            lambda: services.launch_template_task_save(
                workspace=membership.workspace,
                data=form.service_data(),
                task=task,
                actor=request.user,
            ),
        )
        if saved is not None:
            messages.success(request, f"“{saved.title}” saved.")
            return redirect(reverse("roadmap:launch_template") + f"#team-{saved.team}")
        status = 400
    context = {"workspace": membership.workspace, "task": task, "form": form}
    return render(request, "roadmap/strategy/launch_template_edit.html", context, status=status)


@login_required
@require_POST
def launch_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a task from the template (admins); releases keep their copies."""
    membership = _admin(request)
    task = _template_task(membership, pk)
    services.launch_template_task_delete(task=task, actor=request.user)
    messages.success(request, f"“{task.title}” removed from the template.")
    return redirect(reverse("roadmap:launch_template") + f"#team-{task.team}")
