"""The supporter's pages: pledge money, sign on, and see their pledges. (Volunteering hours
is the volunteers app's page, which adds its details to the pledge made here.)"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from candidates.selectors import slate_candidate_standings
from compliance.declarations import conditions_digest, slate_conditions_text
from slate.models import PartnerOrganization, Slate
from slate.selectors import public_slates

from . import selectors, services
from .forms import SUGGESTED_DOLLARS, MoneyPledgeForm, SignOnForm


def _open_slate(slug: str) -> Slate:
    return get_object_or_404(public_slates(), slug=slug)


def _referral(request, slate: Slate) -> PartnerOrganization | None:
    """The endorsing organization whose link brought this supporter (see slate.views.referral)."""
    slug = request.session.get("referred_by")
    if not slug:
        return None
    return PartnerOrganization.objects.filter(slug=slug, endorsements__slate=slate).first()


def _show_error(form, error) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def pledge_money(request, slug: str):
    slate = _open_slate(slug)
    candidates = [s.candidate for s in slate_candidate_standings(slate)]
    conditions = slate_conditions_text(slate)
    ask_details = request.POST.get("ask_details") == "1"
    ask_cap = request.POST.get("ask_cap") == "1"
    form = MoneyPledgeForm(
        request.POST or None, candidates=candidates, ask_details=ask_details, ask_cap=ask_cap,
        initial={"conditions_digest": conditions_digest(conditions)},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pledge = services.create_money_pledge(
                supporter=request.user,
                slate=slate,
                amount_cents=data["amount"],
                supporter_state=data["supporter_state"],
                condition_min_signatures=data["condition_min_signatures"],
                condition_candidate_ids=data["condition_candidates"],
                referred_by=_referral(request, slate),
                idempotency_key=data["idempotency_key"],
                attestations=form.attestations(),
                donor_details=form.donor_details(),
                allow_reallocation=data["allow_reallocation"],
                accept_limit_cap=bool(data.get("accept_limit_cap")),
                conditions_digest=data["conditions_digest"],
            )
        except services.PledgeError as error:
            if error.code in ("donor_details_required", "limit_cap_notice", "conditions_changed"):
                # Ask for what is needed (or show the new conditions), keeping what was typed.
                post = request.POST.copy()
                post["conditions_digest"] = conditions_digest(conditions)
                form = MoneyPledgeForm(
                    post, candidates=candidates,
                    ask_details=ask_details or error.code == "donor_details_required",
                    ask_cap=ask_cap or error.code == "limit_cap_notice",
                )  # fmt: skip
                form.is_valid()
            _show_error(form, _for_form(error))
        else:
            return redirect("escrow:card", pk=pledge.pk)
    return render(
        request,
        "pledges/pledge_money.html",
        {"slate": slate, "form": form, "suggested": SUGGESTED_DOLLARS, "conditions": conditions},
        status=400 if form.errors else 200,
    )


def _for_form(error):
    """The donor's state is ``donor_state`` on the form (``supporter_state`` is another)."""
    if error.field == "state":
        return services.PledgeError(error.code, error.message, field="donor_state")
    if error.field == "conditions_digest":  # hidden: shown above the form instead
        return services.PledgeError(error.code, error.message)
    return error


@login_required
@require_POST
def sign_on(request, slug: str):
    slate = _open_slate(slug)
    form = SignOnForm(request.POST)
    state = form.cleaned_data["supporter_state"] if form.is_valid() else ""
    try:
        services.sign_on(
            supporter=request.user, slate=slate, supporter_state=state,
            referred_by=_referral(request, slate),
        )  # fmt: skip
    except services.PledgeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "You signed on. Thank you for backing a coordinated slate.")
    return redirect(slate.get_absolute_url())


@login_required
def my_pledges(request):
    pledges = selectors.pledges_of(request.user).prefetch_related("events").order_by("-created_at")
    return render(request, "pledges/mine.html", {"pledges": pledges})


@login_required
def pledge_detail(request, pk: int):
    pledge = selectors.pledges_of(request.user).filter(pk=pk).first()
    if pledge is None:  # another supporter's pledge: not even its existence is shown
        raise Http404("No such pledge")
    return render(request, "pledges/detail.html", {"pledge": pledge})
