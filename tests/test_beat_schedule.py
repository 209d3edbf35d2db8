"""Every beat entry names a task the workers know (a typo would silently never run)."""

from django.conf import settings

from slate.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - set(app.tasks) == set()
    assert "escrow.tasks.book_stripe_fees" in scheduled
