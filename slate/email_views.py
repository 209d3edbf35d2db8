"""Email preferences and one-click unsubscribe, reached from the signed link in every email
(no login: the link is the proof of the address). A link that was altered or is too old
changes nothing and says so (400)."""

from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import mail, mail_selectors


def _facts(token: str) -> mail.LinkFacts:
    try:
        return mail.read_token(token)
    except mail.BadLink as exc:
        raise BadRequest(
            f"{exc} Nothing was changed. Use the link in a recent email from Slate, or log in "
            "and open one of your emails again."
        ) from exc


@require_http_methods(["GET", "POST"])
def preferences(request, token: str):
    facts = _facts(token)
    choices = mail_selectors.preference_choices(facts.address, facts.slate_id, facts.category)
    saved = False
    if request.method == "POST":
        for row in choices.rows:
            for option in row.options:
                wanted = request.POST.get(option.field) == "on"
                if wanted != option.wanted:
                    mail.set_wanted(facts.address, option.category, row.slate_id, wanted)
        choices = mail_selectors.preference_choices(facts.address, facts.slate_id, facts.category)
        saved = True
    return render(
        request,
        "slate/email_preferences.html",
        {"choices": choices, "saved": saved, "address": facts.address},
    )


@csrf_exempt  # RFC 8058: the mail provider POSTs with no cookie; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """POST (the List-Unsubscribe-Post one-click): turn off what the link names. GET (a mail
    program that opens the link in a browser): the preferences page, which changes nothing
    until its form is sent."""
    facts = _facts(token)
    if request.method == "GET":
        return redirect(reverse("email:preferences", args=[token]))
    mail.unsubscribe(facts.address, category=facts.category, slate_id=facts.slate_id)
    return HttpResponse(
        "Unsubscribed. Slate will not send you these emails again.\n",
        content_type="text/plain; charset=utf-8",
    )
