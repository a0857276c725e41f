"""The account pages: a person's API tokens and notifications."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..core.views import refusals_on, refuse_not_permitted
from .forms import TokenForm
from .models import Notification
from .notifications import notification_mark_read, notifications_mark_all_read
from .permissions import can
from .roles import Role
from .services import token_create, token_revoke, tokens_visible_to


def _token_form(request):
    return TokenForm(request.POST or None,
                     for_service_accounts=request.user.has_role(Role.ADMIN))


@login_required
def token_list(request):
    return render(request, "accounts/token_list.html", {
        "tokens": tokens_visible_to(request.user),
        "form": _token_form(request) if can(request.user, "accounts.add_apitoken") else None,
    })


@never_cache
@login_required
@require_POST
@refuse_not_permitted
def token_create_view(request):
    form = _token_form(request)
    if form.is_valid():
        with refusals_on(form) as outcome:
            token, key = token_create(
                actor=request.user, name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"], expires_at=form.expires_at(),
                owner=form.cleaned_data.get("user"))
        if outcome.ok:
            # The secret is in this response only: it is never stored, so never shown again.
            return render(request, "accounts/token_created.html", {"token": token, "key": key})
    return render(request, "accounts/token_list.html",
                  {"tokens": tokens_visible_to(request.user), "form": form})


@login_required
@require_POST
@refuse_not_permitted
def token_revoke_view(request, pk):
    token = get_object_or_404(tokens_visible_to(request.user), pk=pk)
    token_revoke(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:tokens")


NOTIFICATIONS_PAGE_SIZE = 50


def _notification_for(user, pk) -> Notification:
    return get_object_or_404(Notification.objects.filter(user=user), pk=pk)


@login_required
def notification_list(request):
    notifications = Notification.objects.filter(user=request.user)
    if request.GET.get("unread"):
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/notification_list.html",
                  {"page": page, "unread_only": bool(request.GET.get("unread"))})


@login_required
@require_POST
def notification_read(request, pk):
    notification = _notification_for(request.user, pk)
    notification_mark_read(actor=request.user, notification=notification)
    if request.htmx:
        notification.refresh_from_db()
        return render(request, "accounts/_notification.html", {"notification": notification})
    return redirect("accounts:notifications")


@login_required
@require_POST
def notification_read_all(request):
    marked = notifications_mark_all_read(actor=request.user)
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked read.")
    return redirect("accounts:notifications")
