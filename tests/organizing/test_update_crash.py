"""An organizer update reaches exactly its segment, once, with a real Celery worker SIGKILLed
mid-send (as tests/escrow/test_crash_safety.py kills release workers).

The update goes to 240 sign-on supporters (not to the 30 volunteers beside them) in batches of
40 at 40 emails a second. A worker process on the Redis broker (``slate.settings``, eager off)
prepares and sends it, writing each email to a file; when about a third have gone out, the
worker's process group gets SIGKILL (no warm shutdown, its message unacked), a second worker
starts, and the beat sweeper (run here) queues the batches that stopped moving again.

Afterwards: every supporter in the segment has one settled send-once row and the update says
sent; nobody outside the segment got anything; and the emails actually written are the
segment, each address once, but for at most one: the email the dead worker had handed to the
mail server and not yet recorded when it died (no send-once key can cover a process dying
between the server's acceptance and the commit, which is why the key is settled in the same
transaction as the send).
"""

import os
import uuid
from collections import Counter
from email import message_from_bytes

import pytest

from organizing import update_sending, updates
from organizing.models import OrganizerUpdate, UpdateRecipient
from pledges import intake as pledge_intake
from slate.models import OutboundEmail
from tests.escrow.test_crash_safety import (  # noqa: F401  (broker is a fixture)
    BROKER_URL,
    Workers,
    _test_database_url,
    broker,
    wait_for,
)
from tests.factories import UserFactory, make_open_slate, organizer_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_worker,
    pytest.mark.timeout(600),
]

SEGMENT = 240
OUTSIDE = 30
RATE = 40
BATCH = 40


@pytest.fixture
def update_workers(broker, transactional_db, tmp_path):  # noqa: F811
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "slate.settings",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": BROKER_URL,
        "DATABASE_URL": _test_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "SLATE_UPDATE_SENDS_PER_SECOND": str(RATE),
        "SLATE_UPDATE_BATCH_SIZE": str(BATCH),
        "SLATE_VAR_DIR": str(tmp_path / "var"),
        "SLATE_ENV": "development",
        "DEBUG": "0",
        "LOG_LEVEL": "INFO",
    }
    env.pop("REDIS_URL", None)
    pool = Workers(env, tmp_path, proxy=None)
    pool.outbox = outbox
    try:
        yield pool
    finally:
        pool.close()  # before pytest-django empties the database the workers use


def delivered(outbox, subject: str) -> Counter:
    """Recipient address -> emails with ``subject`` written by the workers' file mail backend
    (the sign-ons' and pledges' own confirmations are written there too)."""
    counts = Counter()
    for path in outbox.iterdir():
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            message = message_from_bytes(chunk) if chunk.strip() else None
            if message is not None and message["Subject"] == subject:
                counts[message["To"]] += 1
    return counts


def test_an_update_reaches_its_segment_once_with_a_worker_killed_mid_send(update_workers, settings):
    slate = make_open_slate(candidates=3, min_signatures=2)
    organizer = organizer_of(slate)
    segment = UserFactory.create_batch(SEGMENT)
    outside = UserFactory.create_batch(OUTSIDE)
    for user in segment:
        pledge_intake.sign_on(supporter=user, slate=slate, supporter_state="CA")
    for user in outside:
        pledge_intake.create_volunteer_pledge(
            supporter=user, slate=slate, hours=2, activities=["canvassing"], zip_code="10001"
        )

    first = update_workers.start("first")
    update = updates.queue_update(
        slate=slate, author=organizer, subject="Rally", body="See you **Saturday**.",
        segment={"kinds": ["signon"]}, token=uuid.uuid4(),
    )  # fmt: skip

    def sent_count() -> int:
        return OutboundEmail.objects.filter(
            key__startswith=f"organizer-update:{update.pk}:", settled_at__isnull=False
        ).count()

    assert wait_for(lambda: sent_count() >= SEGMENT // 3, timeout=120), (
        f"the first worker did not get a third through:\n{Workers.tail(first)}"
    )
    Workers.kill(first)
    at_kill = sent_count()
    assert at_kill < SEGMENT, "the worker finished before it could be killed"

    update_workers.start("second")
    # Stale at once: the update's last progress (the dead worker's) is already in the past,
    # so the sweep finds it without waiting out a real staleness period.
    settings.SLATE_UPDATE_STALE_SECONDS = 0
    assert update_sending.sweep() >= 1  # the batch the dead worker held, and any it left behind

    def finished() -> bool:
        return OrganizerUpdate.objects.get(pk=update.pk).status == OrganizerUpdate.Status.SENT

    assert wait_for(finished, timeout=180), "the update did not finish after the kill"

    expected = {user.email for user in segment}
    rows = UpdateRecipient.objects.filter(update=update)
    assert {r.email for r in rows} == expected
    assert set(rows.values_list("status", flat=True)) == {UpdateRecipient.Status.SENT}
    keys = OutboundEmail.objects.filter(key__startswith=f"organizer-update:{update.pk}:")
    assert keys.count() == SEGMENT
    assert set(keys.values_list("to", flat=True)) == expected
    assert set(keys.values_list("status", flat=True)) == {OutboundEmail.Status.SENT}

    written = delivered(update_workers.outbox, "Rally")
    assert set(written) == expected  # nobody outside the segment, nobody missed
    twice = {address: n for address, n in written.items() if n > 1}
    assert sum(twice.values()) - len(twice) <= 1, twice
