from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import stripe_gateway, webhooks


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
