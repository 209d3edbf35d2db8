"""Supporters' asks as the organizers see them: every message, hidden ones too, and the
button that hides a message from the public (the ask still counts)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from candidates import asks
from candidates.models import Ask
from slate.errors import DomainError

from .permissions import organizer_slate


@login_required
@require_GET
def ask_list(request, slug: str):
    slate = organizer_slate(request, slug)
    context = {"slate": slate, "asks": asks.slate_asks(slate)}
    return render(request, "organizing/asks.html", context)


@login_required
@require_POST
def hide(request, slug: str, ask_id: int):
    slate = organizer_slate(request, slug)
    ask = get_object_or_404(Ask, pk=ask_id, slate=slate)
    show_again = request.POST.get("show") == "1"
    try:
        asks.hide_ask(ask=ask, actor=request.user, hidden=not show_again)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "The message is shown again." if show_again else "The message is hidden."
        )
    return redirect("organize:asks", slug=slate.slug)
