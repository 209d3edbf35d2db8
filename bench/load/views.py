"""The bare view: the same Pledge row the intake writes, inserted in one transaction by the
same server with the same middleware, and nothing else (no lock, history, outbox, counters,
compliance or Stripe). Its rate is the ceiling the load test compares intake with."""

from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState


@csrf_exempt
@require_POST
def bare_pledge(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "log in"}, status=403)
    with transaction.atomic():
        pledge = Pledge.objects.create(
            supporter=request.user,
            slate_id=int(request.POST["slate"]),
            kind=PledgeKind.MONEY,
            state=PledgeState.COMMITTED,
            amount_cents=int(request.POST["amount_cents"]),
            supporter_state=request.POST.get("supporter_state", ""),
            idempotency_key=request.POST["idempotency_key"],
        )
    return JsonResponse({"id": pledge.pk}, status=201)
