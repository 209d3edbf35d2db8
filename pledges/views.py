"""The supporter's pages: pledge money, sign on, and see their pledges. (Volunteering hours
is the volunteers app's page, which adds its details to the pledge made here.)"""

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates.selectors import slate_candidate_standings
from slate.models import PartnerCode, PartnerOrganization, Slate
from slate.selectors import endorsing_organizations, public_slates
from slate.sharing import supporter_ref
from slate.states import SlateState

from . import intake, referrals, selectors, services, signons
from .declarations import conditions_digest, slate_conditions_text
from .forms import SUGGESTED_DOLLARS, EmailSignOnForm, MoneyPledgeForm, SignOnForm
from .states import PledgeKind


def _open_slate(slug: str) -> Slate:
    return get_object_or_404(public_slates(), slug=slug)


def referring_organization(request, slate: Slate) -> PartnerOrganization | None:
    """The endorsing organization whose link brought this supporter (see slate.views.referral)."""
    slug = request.session.get("referred_by")
    if not slug:
        return None
    return endorsing_organizations(slate.pk).filter(slug=slug).first()


def referring_partner_code(request, organization: PartnerOrganization | None) -> PartnerCode | None:
    """The organization's sub-code from the same link (see slate.views.referral), if any."""
    code = request.session.get("referred_by_code")
    if organization is None or not code or not isinstance(code, str):
        return None
    return organization.codes.filter(code=code).first()


def _credit_referrer(request, slate: Slate, supporter) -> None:
    """The supporter whose share link brought this visitor (see slate.sharing) gets the credit."""
    referrals.attribute(
        slate=slate, supporter=supporter, code=supporter_ref(request.session, slate.slug)
    )


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
            pledge = intake.create_money_pledge(
                supporter=request.user,
                slate=slate,
                amount_cents=data["amount"],
                supporter_state=data["supporter_state"],
                condition_min_signatures=data["condition_min_signatures"],
                condition_candidate_ids=data["condition_candidates"],
                allocation=data["allocation"],
                referred_by=(referred_by := referring_organization(request, slate)),
                partner_code=referring_partner_code(request, referred_by),
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
            _credit_referrer(request, slate, request.user)
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
    if error.field == "condition_required_candidates":
        return services.PledgeError(error.code, error.message, field="condition_candidates")
    if error.field == "conditions_digest":  # hidden: shown above the form instead
        return services.PledgeError(error.code, error.message)
    return error


@require_http_methods(["GET", "POST"])
def sign_on(request, slug: str):
    """Sign on in one form: with an account, one click; without one, name, email and ZIP,
    confirmed by an emailed link."""
    slate = _open_slate(slug)
    if request.user.is_authenticated:
        return _sign_on_with_account(request, slate)
    form = EmailSignOnForm(request.POST or None)
    if request.method == "POST" and not _sign_on_rate_allows(request):
        form.is_valid()
        form.add_error(
            None,
            "Too many sign-ons from your network in the last hour. Please try again later.",
        )
        response = render(
            request, "pledges/sign_on.html", {"slate": slate, "form": form}, status=429
        )
        response["Retry-After"] = "3600"
        return response
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            signons.request_sign_on(
                slate=slate, name=data["name"], email=data["email"], zip_code=data["zip_code"],
                on_public_roll=data["on_public_roll"],
                referred_by=(referred_by := referring_organization(request, slate)),
                partner_code=referring_partner_code(request, referred_by),
                referrer_code=supporter_ref(request.session, slate.slug),
            )  # fmt: skip
        except services.PledgeError as error:
            _show_error(form, error)
        else:
            return redirect("pledges:sign-on-sent", slug=slate.slug)
    return render(
        request, "pledges/sign_on.html", {"slate": slate, "form": form},
        status=400 if form.errors else 200,
    )  # fmt: skip


def _sign_on_rate_allows(request) -> bool:
    """The anonymous form emails whatever address is typed: at most
    ``SLATE_SIGN_ON_RATE_PER_IP`` posts per client address (allauth's limiter, which counts
    the client address as the login form and the API do: ALLAUTH_TRUSTED_PROXY_COUNT)."""
    usage = ratelimit.consume(
        request, app="slate.sign_on", action="sign_on",
        config={"sign_on": settings.SLATE_SIGN_ON_RATE_PER_IP},
    )  # fmt: skip
    return usage is not None


def _sign_on_with_account(request, slate: Slate):
    if selectors.is_signed_on(request.user, slate) and request.method == "GET":
        return redirect("pledges:thanks", slug=slate.slug)
    form = SignOnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        name = request.user.get_full_name()
        try:
            intake.sign_on(
                supporter=request.user, slate=slate, supporter_state=data["supporter_state"],
                referred_by=(referred_by := referring_organization(request, slate)),
                partner_code=referring_partner_code(request, referred_by),
                public_name=signons.public_name(name) if data["on_public_roll"] else "",
            )  # fmt: skip
        except services.PledgeError as error:
            _show_error(form, error)
        else:
            _credit_referrer(request, slate, request.user)
            messages.success(request, "You signed on. Thank you for backing a coordinated slate.")
            return redirect("pledges:thanks", slug=slate.slug)
    return render(
        request, "pledges/sign_on.html", {"slate": slate, "form": form, "with_account": True},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_GET
def sign_on_sent(request, slug: str):
    slate = _open_slate(slug)
    return render(request, "pledges/sign_on_sent.html", {"slate": slate})


@require_http_methods(["GET", "POST"])
def sign_on_confirm(request, token: str):
    """The emailed link. GET asks for one click, so a mail scanner that follows links does not
    sign anyone on; POST confirms."""
    try:
        sign_on_request = signons.request_for_token(token)
    except services.PledgeError as error:
        return render(request, "pledges/sign_on_link.html", {"error": error.message}, status=400)
    if request.method == "POST":
        try:
            pledge = signons.confirm_sign_on(token=token)
        except services.PledgeError as error:
            context = {"error": error.message, "sign_on": sign_on_request}
            return render(request, "pledges/sign_on_link.html", context, status=400)
        _remember_thanked(request, pledge)
        return redirect("pledges:thanks", slug=pledge.slate.slug)
    return render(request, "pledges/sign_on_link.html", {"sign_on": sign_on_request})


THANKED_SESSION_KEY = "thanked_pledges"


def _remember_thanked(request, pledge) -> None:
    """Lets a visitor without a session of that account see the thank-you page for it."""
    thanked = [pk for pk in request.session.get(THANKED_SESSION_KEY, []) if pk != pledge.pk]
    request.session[THANKED_SESSION_KEY] = [*thanked[-9:], pledge.pk]


@require_GET
def thanks(request, slug: str):
    """After every pledge and sign-on: the share link and the next step."""
    slate = get_object_or_404(public_slates(), slug=slug)
    pledge = selectors.latest_pledge_to_thank(
        slate, user=request.user, pledge_ids=request.session.get(THANKED_SESSION_KEY, [])
    )
    if pledge is None:
        return redirect(slate.get_absolute_url())
    kinds = selectors.live_kinds_of(pledge.supporter, slate)
    code = referrals.code_for(pledge.supporter)
    share_url = request.build_absolute_uri(f"{slate.get_absolute_url()}?ref={code}")
    context = {
        "slate": slate,
        "pledge": pledge,
        "share_url": share_url,
        # The next step offers a kind of support not yet given, while the slate takes it.
        "offer_money": slate.state == SlateState.OPEN and PledgeKind.MONEY not in kinds,
        "offer_hours": slate.state == SlateState.OPEN and PledgeKind.VOLUNTEER not in kinds,
        "brought": selectors.brought_by(pledge.supporter),
    }
    return render(request, "pledges/thanks.html", context)


@login_required
def my_pledges(request):
    pledges = selectors.pledges_of(request.user).prefetch_related("events").order_by("-created_at")
    context = {
        "pledges": pledges,
        "brought": selectors.brought_by(request.user),
        "referrers": referrals.referring_organizations(request.user),
    }
    return render(request, "pledges/mine.html", context)


@login_required
@require_POST
def partner_sharing(request, organization_slug: str):
    """Let an organization whose link brought one of your pledges know you pledged (share=1),
    or stop (share=0)."""
    organization = get_object_or_404(PartnerOrganization, slug=organization_slug)
    share = request.POST.get("share") == "1"
    try:
        referrals.set_partner_sharing(
            supporter=request.user, organization=organization, share=share
        )
    except services.PledgeError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"{organization.name} can now see that you pledged."
            if share
            else f"{organization.name} no longer sees that you pledged.",
        )
    return redirect("pledges:mine")


@login_required
def pledge_detail(request, pk: int):
    pledge = selectors.pledges_of(request.user).filter(pk=pk).first()
    if pledge is None:  # another supporter's pledge: not even its existence is shown
        raise Http404("No such pledge")
    return render(request, "pledges/detail.html", {"pledge": pledge})
