"""The organizer-update composer and the list of sent updates (organizing.updates)."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from slate.errors import DomainError

from . import forms, update_audience, updates
from .permissions import organizer_slate
from .wizard import show_error


@login_required
@require_http_methods(["GET", "POST"])
def composer(request, slug: str):
    """GET: the composer and the sent updates. POST ``action``: ``preview`` (the email as
    supporters see it, and how many it reaches), ``test`` (to the organizer), ``send``."""
    slate = organizer_slate(request, slug)
    organizations = list(update_audience.segment_organizations(slate))
    form = forms.UpdateForm(
        request.POST or None, organizations=organizations, initial={"token": uuid.uuid4()}
    )
    action = request.POST.get("action")
    preview = size = None
    if request.method == "POST":
        if action not in forms.UpdateForm.ACTIONS:
            form.add_error(None, "Choose Preview, Send me a test or Send.")
        elif form.is_valid():
            data = form.cleaned_data
            try:
                segment = update_audience.parse_segment(slate, form.segment())
                updates.check_content(data["subject"], data["body"])
                if action == "send":
                    update = updates.queue_update(
                        slate=slate, author=request.user, subject=data["subject"],
                        body=data["body"], segment=form.segment(), token=data["token"],
                    )  # fmt: skip
                    messages.success(
                        request,
                        f"“{update.subject}” is on its way to the supporters in the segment.",
                    )
                    return redirect("organize:updates", slug=slate.slug)
                if action == "test":
                    sent = updates.send_test(
                        slate=slate, author=request.user, subject=data["subject"],
                        body=data["body"],
                    )  # fmt: skip
                    if sent:
                        messages.success(request, f"A test went to {request.user.email}.")
                    else:
                        form.add_error(None, f"The test could not go to {request.user.email}.")
                preview = updates.render_body(data["body"])
                size = update_audience.audience_size(slate, segment)
            except DomainError as error:
                show_error(form, error, {"segment": None})
    context = {
        "slate": slate,
        "form": form,
        "preview": preview,
        "size": size,
        "sent_updates": updates.sent_updates(slate),
        "cap": settings.SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS,
        "rate": settings.SLATE_UPDATE_SENDS_PER_SECOND,
    }
    return render(request, "organizing/updates.html", context, status=400 if form.errors else 200)
