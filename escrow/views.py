"""Money pages: save a card, cancel a pledge, complete a payment; and Stripe's webhook."""

from functools import wraps
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from candidates.selectors import candidate_for_user
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.errors import DomainError

from . import selectors, stripe_gateway, webhooks
from .cards import card_can_be_saved, confirm_card_setup, start_card_setup
from .errors import EscrowError
from .models import CardSetup
from .needs_action import payment_needing_supporter, refresh_payment
from .voiding import cancel_pledge

AUTHENTICATION_ERRORS = ("requires_action", "authentication_required")


def stripe_js_url() -> str:
    """localstripe serves a fake Stripe.js; in production it is Stripe's own."""
    if settings.STRIPE_API_BASE:
        return settings.STRIPE_API_BASE.rstrip("/") + "/js.stripe.com/v3/"
    return "https://js.stripe.com/v3/"


def stripe_js_policy() -> dict[str, list[str]]:
    """What Stripe.js needs on top of the site's Content-Security-Policy (Stripe's list: its
    script, the frames of its card fields and 3-D Secure, its API), or localstripe's origin
    where the fake Stripe.js is served (read per request: the tests start it late)."""
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        local = [f"{parts.scheme}://{parts.netloc}"]
        return {"script-src": local, "connect-src": local, "frame-src": local}
    return {
        "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
        "connect-src": ["https://api.stripe.com"],
        "frame-src": [
            "https://js.stripe.com",
            "https://*.js.stripe.com",
            "https://hooks.stripe.com",
        ],
    }


def allow_stripe_js(view):
    """Only the pages that take a card load Stripe.js; the rest of Slate runs no outside code."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return csp_update(stripe_js_policy())(view)(request, *args, **kwargs)

    return wrapped


def _own_pledge(request, pk: int) -> Pledge:
    pledge = Pledge.objects.select_related("slate").filter(pk=pk, supporter=request.user).first()
    if pledge is None:  # another supporter's pledge: not even its existence is shown
        raise Http404("No such pledge")
    return pledge


def _stripe_unavailable(request, error) -> HttpResponse:
    messages.error(request, "Card payments are unavailable right now. Please try again soon.")
    return render(request, "escrow/unavailable.html", {"error": error}, status=503)


@login_required
@allow_stripe_js
def card(request, pk: int):
    """Step 2 of the pledge: Stripe.js saves the card against a SetupIntent."""
    pledge = _own_pledge(request, pk)
    if not card_can_be_saved(pledge):
        messages.info(request, "This pledge's card can no longer be changed.")
        return redirect("pledges:mine")
    try:
        card_setup = start_card_setup(pledge=pledge, actor=request.user)
    except EscrowError as error:
        messages.error(request, error.message)
        return redirect("pledges:mine")
    except stripe_gateway.GatewayError as error:
        return _stripe_unavailable(request, error)
    context = {
        "pledge": pledge,
        "client_secret": card_setup.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": stripe_js_url(),
    }
    return render(request, "escrow/card.html", context)


@login_required
@require_POST
def card_confirm(request, pk: int):
    """Stripe.js reports back; we ask Stripe ourselves rather than trust the browser."""
    pledge = _own_pledge(request, pk)
    card_setup = pledge.card_setups.order_by("-pk").first()
    if card_setup is None:
        return redirect("escrow:card", pk=pk)
    try:
        card_setup = confirm_card_setup(setup_intent_id=card_setup.setup_intent_id)
    except stripe_gateway.GatewayError as error:
        return _stripe_unavailable(request, error)
    except DomainError as error:  # the pledge moved meanwhile; nothing was recorded
        messages.error(request, f"Your card was not used: {error.message}")
        return redirect("pledges:mine")
    if card_setup.status == CardSetup.Status.SUCCEEDED:
        # Only the state moved; the slate read with the pledge is still the one to thank for.
        pledge.refresh_from_db(fields=["state"])
        if pledge.state == PledgeState.CAPTURED:
            messages.success(request, "Thank you: your new card was charged.")
        elif pledge.state == PledgeState.NEEDS_ACTION:
            messages.error(request, "Your new card was not accepted either.")
        elif pledge.state == PledgeState.PENDING_CARD:  # saved after the slate's deadline
            messages.error(request, card_setup.last_error)
        else:
            messages.success(
                request,
                "Your card is saved. You will be charged only if the slate locks before its "
                "deadline.",
            )
            return redirect("pledges:thanks", slug=pledge.slate.slug)
        return redirect("pledges:mine")
    messages.error(request, "The card was not saved. Please try again or use another card.")
    return redirect("escrow:card", pk=pk)


@login_required
def cancel(request, pk: int):
    """A confirmation page, then the cancel (holds released first)."""
    pledge = _own_pledge(request, pk)
    if request.method == "POST":
        try:
            cancel_pledge(pledge=pledge, actor=request.user)
        except EscrowError as error:
            messages.error(request, error.message)
        except stripe_gateway.GatewayError as error:
            return _stripe_unavailable(request, error)
        else:
            messages.success(request, "Your pledge is cancelled; nothing will be charged.")
        return redirect("pledges:mine")
    return render(request, "escrow/cancel.html", {"pledge": pledge})


@login_required
@allow_stripe_js
def complete_payment(request, pk: int):
    """A payment that needs its supporter (3-D Secure at release)."""
    pledge = _own_pledge(request, pk)
    try:
        payment = payment_needing_supporter(pledge=pledge, actor=request.user)
    except EscrowError as error:
        messages.info(request, error.message)
        return redirect("pledges:mine")
    if request.method == "POST":
        try:
            payment = refresh_payment(payment_id=payment.pk)
        except stripe_gateway.GatewayError as error:
            return _stripe_unavailable(request, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("pledges:mine")
        pledge.refresh_from_db()
        if pledge.state == PledgeState.CAPTURED:
            messages.success(request, "Thank you: your payment went through.")
        elif pledge.state == PledgeState.VOIDED:
            voided = pledge.events.filter(to_state=PledgeState.VOIDED).last()
            messages.info(
                request,
                "Nothing was charged and the hold on your card is released: "
                f"{voided.reason if voided else 'the pledge is void'}",
            )
        else:
            messages.error(request, "The payment still needs you. Please try again.")
        return redirect("pledges:mine")
    context = {
        "pledge": pledge,
        "client_secret": payment.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": stripe_js_url(),
        # A declined card cannot be confirmed; the supporter saves another one instead.
        "needs_new_card": payment.last_error not in AUTHENTICATION_ERRORS,
        # Real Stripe takes the card off an off-session intent that needed authentication
        # (``requires_payment_method``): Stripe.js confirms it again on the saved card.
        "payment_method_id": payment.card_setup.payment_method_id if payment.card_setup else "",
    }
    return render(request, "escrow/complete_payment.html", context)


@csrf_exempt  # Stripe signs the request instead; the signature is verified below.
@require_POST
def stripe_webhook(request):
    try:
        event, created = webhooks.receive(
            payload=request.body,
            signature_header=request.headers.get("Stripe-Signature", ""),
        )
    except stripe_gateway.WebhookSignatureError:
        return HttpResponse("invalid signature", status=400, content_type="text/plain")
    return JsonResponse({"received": event.event_id, "duplicate": not created})


@login_required
def candidate_payouts(request):
    """A candidate's share of each released slate they signed, and where that money is."""
    candidate = candidate_for_user(request.user)
    if candidate is None:
        raise PermissionDenied("This account has no candidate profile.")
    payouts = selectors.candidate_payouts(candidate.pk)
    return render(request, "escrow/candidate_payouts.html", {"payouts": payouts})
