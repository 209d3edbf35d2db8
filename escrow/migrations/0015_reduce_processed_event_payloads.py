"""Events processed before payloads were reduced still hold their whole snapshot (billing
names, emails, addresses): reduce them as processing now does."""

from django.db import migrations

from escrow.event_payloads import REDUCED_MARK, books_view


def reduce_processed_payloads(apps, schema_editor):
    WebhookEvent = apps.get_model("escrow", "WebhookEvent")
    processed = WebhookEvent.objects.filter(processed_at__isnull=False).only("payload")
    for row in processed.iterator(chunk_size=500):
        if not row.payload.get(REDUCED_MARK):
            row.payload = books_view(row.payload)
            row.save(update_fields=["payload"])


class Migration(migrations.Migration):
    dependencies = [("escrow", "0014_payout_canceled")]

    operations = [migrations.RunPython(reduce_processed_payloads, migrations.RunPython.noop)]
