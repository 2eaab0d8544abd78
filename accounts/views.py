"""Account pages: switching workspace, members and invitations, asking for a password reset.
Login, logout, password change and setting a new password from a reset link are Django's views,
configured in accounts/urls.py."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services, throttle
from accounts.addresses import normalize_email
from accounts.forms import (
    AcceptSignupForm,
    ApiTokenForm,
    InviteForm,
    PasswordResetRequestForm,
    RoleForm,
    WorkspaceSwitchForm,
)
from accounts.middleware import SESSION_KEY
from accounts.models import ApiToken
from accounts.tokens import api_token_issue, api_token_revoke


@login_required
@require_POST
def workspace_switch(request):
    """Work in another of the user's workspaces; any other id is not found."""
    form = WorkspaceSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("No such workspace.")
    membership = selectors.membership_of(
        user=request.user, workspace_id=form.cleaned_data["workspace_id"]
    )
    if membership is None:
        raise Http404("No such workspace.")
    request.session[SESSION_KEY] = membership.workspace_id
    messages.info(request, f"You are now working in {membership.workspace.name}.")
    return redirect("roadmap:home")


def _current_membership(request):
    if not request.membership:
        raise Http404("You are not a member of any workspace.")
    return request.membership


def _admin_membership(request):
    """The current membership if it is an admin's: others may look but not change (403)."""
    membership = _current_membership(request)
    if not membership.is_admin:
        raise PermissionDenied("Only an admin of this workspace can manage its members.")
    return membership


def _members_page(request, *, invite_form=None, status=200):
    membership = _current_membership(request)
    context = {
        "overview": selectors.members_overview(workspace=membership.workspace),
        "invite_form": invite_form or InviteForm(),
        "role_choices": RoleForm.base_fields["role"].choices,
    }
    return render(request, "accounts/members.html", context, status=status)


@login_required
def members(request):
    """Who is in the current workspace, with which role, and who is invited."""
    return _members_page(request)


def _add_errors(form, error: ValidationError, field_map: dict[str, str | None]) -> None:
    for name, messages_ in error.message_dict.items():
        field = field_map.get(name, name if name in form.fields else None)
        for message in messages_:
            form.add_error(field, message)


@login_required
@require_POST
def member_invite(request):
    membership = _admin_membership(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, _ = services.invitation_create(
                workspace=membership.workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc, {"email": "email", "role": "role"})
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("accounts:members")
    return _members_page(request, invite_form=form, status=400)


@login_required
@require_POST
def invitation_revoke(request, pk: int):
    membership = _admin_membership(request)
    invitation = get_object_or_404(
        selectors.workspace_pending_invitations(workspace=membership.workspace), pk=pk
    )
    services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, f"The invitation of {invitation.email} is revoked.")
    return redirect("accounts:members")


@login_required
@require_POST
def member_role(request, pk: int):
    current = _admin_membership(request)
    target = get_object_or_404(selectors.workspace_memberships(workspace=current.workspace), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a role: admin, editor or viewer.")
        return redirect("accounts:members")
    try:
        services.membership_change_role(
            membership=target, role=form.cleaned_data["role"], actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{target.user} is now {target.get_role_display().lower()}.")
    return redirect("accounts:members")


@login_required
@require_POST
def member_remove(request, pk: int):
    current = _admin_membership(request)
    target = get_object_or_404(selectors.workspace_memberships(workspace=current.workspace), pk=pk)
    try:
        services.membership_remove(membership=target, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:members")
    messages.success(request, f"{target.user} was removed from {current.workspace}.")
    if target.user_id == request.user.pk:
        request.session.pop(SESSION_KEY, None)
        return redirect("roadmap:home")
    return redirect("accounts:members")


def _invalid_invitation(request):
    return render(request, "accounts/invitation_invalid.html", status=404)


def _joined(request, membership):
    request.session[SESSION_KEY] = membership.workspace_id
    messages.success(request, f"Welcome to {membership.workspace.name}.")
    return redirect("roadmap:home")


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """Open an emailed invitation: join as the invited user, or create their account."""
    invitation = selectors.invitation_by_token(raw_token=token)
    if invitation is None:
        return _invalid_invitation(request)
    context = {"invitation": invitation, "workspace": invitation.workspace}
    user = request.user
    if user.is_authenticated:
        if normalize_email(user.email) != normalize_email(invitation.email):
            return render(
                request, "accounts/invitation_accept.html", {**context, "mode": "other"}, status=403
            )
        if request.method == "POST":
            try:
                membership = services.invitation_accept(raw_token=token, user=user)
            except services.InvitationUnusable:
                return _invalid_invitation(request)
            return _joined(request, membership)
        return render(request, "accounts/invitation_accept.html", {**context, "mode": "join"})

    if selectors.account_exists(email=invitation.email):
        return render(request, "accounts/invitation_accept.html", {**context, "mode": "login"})

    form = AcceptSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept_new_user(
                raw_token=token,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
            )
        except services.InvitationUnusable:
            return _invalid_invitation(request)
        except ValidationError as exc:
            _add_errors(
                form, exc, {"password": "password1", "display_name": "display_name", "email": None}
            )
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _joined(request, membership)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/invitation_accept.html",
        {**context, "mode": "signup", "form": form},
        status=status,
    )


TOKEN_SESSION_KEY = "new_api_token"


@never_cache  # shows a new secret once: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's personal API tokens in the current workspace; a new one is shown once."""
    membership = _current_membership(request)
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                _, raw = api_token_issue(
                    user=request.user,
                    workspace=membership.workspace,
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
            except ValidationError as exc:
                _add_errors(form, exc, {"name": "name", "expires_in_days": "expires_in_days"})
            else:
                request.session[TOKEN_SESSION_KEY] = raw
                return redirect("accounts:api_tokens")
        status = 400
    else:
        status = 200
    context = {
        "form": form,
        "new_token": request.session.pop(TOKEN_SESSION_KEY, None),
        "tokens": ApiToken.objects.filter(user=request.user, workspace=membership.workspace),
        "viewer": not membership.can_edit,
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


@login_required
@require_POST
def api_token_revoke_view(request, pk: int):
    membership = _current_membership(request)
    token = get_object_or_404(ApiToken, pk=pk, user=request.user, workspace=membership.workspace)
    api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. It stops working at once.")
    return redirect("accounts:api_tokens")


@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Ask for a link to set a new password. The answer is the same whether or not an account
    uses the address; past the hourly limits it is 429 for any address."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "GET":
        return render(request, "accounts/password_reset_form.html", {"form": form})
    if form.is_valid():
        try:
            services.password_reset_request(
                email=form.cleaned_data["email"], client=throttle.client_address(request)
            )
        except services.PasswordResetLimited:
            form.add_error(
                None, "Too many requests for a new password. Wait an hour, then try again."
            )
            response = render(
                request, "accounts/password_reset_form.html", {"form": form}, status=429
            )
            response["Retry-After"] = str(throttle.RESET_WINDOW_SECONDS)
            return response
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset_form.html", {"form": form}, status=400)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's: the link's token is checked, moved to the session, and works until the password
    changes. Setting the password also lifts a login lockout of the account."""

    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        throttle.login_succeeded(email=form.user.email)
        return response
