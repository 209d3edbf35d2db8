"""The record after the lock: organizers record how the signers voted on a plank."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from candidates import selectors as candidate_selectors
from candidates import votes
from slate.errors import DomainError

from . import forms
from .permissions import organizer_slate


@login_required
@require_http_methods(["GET", "POST"])
def vote_records(request, slug: str):
    slate = organizer_slate(request, slug)
    version = candidate_selectors.current_agreement_version(slate)
    refusal = votes.recordable_refusal(slate)
    form = forms.VoteRecordForm(
        request.POST or None,
        planks=version.numbered_planks() if version else (),
        signers=votes.signers(slate),
    )
    if request.method == "POST" and not refusal and form.is_valid():
        data = form.cleaned_data
        try:
            record = votes.record_vote(
                slate=slate, actor=request.user, plank_position=data["plank"],
                description=data["description"], voted_on=data["voted_on"],
                bloc_vote=data["bloc_vote"], source_url=data["source_url"], votes=form.votes(),
            )  # fmt: skip
        except DomainError as refused:
            field = {"plank": "plank", "votes": None}.get(refused.field, refused.field)
            form.add_error(field if field in form.fields else None, refused.message)
        else:
            messages.success(
                request, f"The vote “{record.description}” is on the record; supporters are told."
            )
            return redirect("organize:votes", slug=slate.slug)
    context = {
        "slate": slate,
        "form": form,
        "refusal": refusal,
        "records": votes.slate_records(slate),
    }
    failed = request.method == "POST" and (refusal or form.errors)
    return render(request, "organizing/votes.html", context, status=400 if failed else 200)
