"""Extending an open slate's deadline: the service, its record and event, the page, the email."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate import deadlines
from slate.errors import SlateError
from slate.models import DeadlineExtension, Slate
from tests.factories import UserFactory, make_draft_slate, make_open_slate, organizer_of

pytestmark = pytest.mark.django_db


def later(slate, days=7):
    return slate.deadline + timedelta(days=days)


def form(when, reason="The primary moved to June."):
    return {"new_deadline": when.strftime("%Y-%m-%dT%H:%M"), "reason": reason}


def test_extension_is_recorded_announced_and_emailed_to_each_supporter_once(
    slate, organizer, django_capture_on_commit_callbacks
):
    volunteer, donor = UserFactory(), UserFactory()
    pledge_intake.create_volunteer_pledge(
        supporter=volunteer, slate=slate, hours=4, activities=["canvassing"], zip_code="10001"
    )
    pledge_intake.sign_on(supporter=volunteer, slate=slate)
    pledge_services.commit_money_pledge(
        pledge=pledge_intake.create_money_pledge(
            attestations=ATTESTED, supporter=donor, slate=slate, amount_cents=900
        )
    )
    cancelled = UserFactory()
    pledge_services.cancel_pledge(
        pledge=pledge_intake.sign_on(supporter=cancelled, slate=slate), actor=cancelled
    )
    previous = slate.deadline
    new_deadline = later(slate)
    with django_capture_on_commit_callbacks(execute=True):
        extension = deadlines.extend_deadline(
            slate=slate, new_deadline=new_deadline, actor=organizer, reason="Primary moved"
        )
    slate.refresh_from_db()
    assert slate.deadline == new_deadline
    extension.refresh_from_db()
    assert (extension.previous_deadline, extension.actor) == (previous, organizer)
    assert extension.dispatched_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted([volunteer.email, donor.email])
    assert "Primary moved" in mail.outbox[0].body

    # A re-sent event (the sweeper after a crash) tells nobody twice.
    from organizing.notices import tell_supporters_deadline_extended

    assert tell_supporters_deadline_extended(extension_id=extension.pk) == 0
    assert len(mail.outbox) == 2


def test_a_mail_failure_mid_fan_out_is_finished_by_the_sweeper_telling_each_once(
    slate, organizer, monkeypatch
):
    """The mail server fails on one supporter: the task stops there (and its retry, or the
    sweeper once the retries are spent, finishes); whoever was told before is not told again,
    and the extension counts as told only once everyone was."""
    from organizing import notices, tasks
    from slate import mail as slate_mail

    donors = [UserFactory() for _ in range(3)]
    for donor in donors:
        pledge_services.commit_money_pledge(
            pledge=pledge_intake.create_money_pledge(
                attestations=ATTESTED, supporter=donor, slate=slate, amount_cents=900
            )
        )
    extension = deadlines.extend_deadline(
        slate=slate, new_deadline=later(slate), actor=organizer, reason="Primary moved"
    )
    # Announced (the test's transaction never commits, so its on-commit work is done here).
    DeadlineExtension.objects.filter(pk=extension.pk).update(dispatched_at=timezone.now())
    real_deliver = slate_mail.deliver

    def server_down_for_the_second(message):
        if message.to == [donors[1].email]:
            raise ConnectionRefusedError("mail server down")
        real_deliver(message)

    monkeypatch.setattr(slate_mail, "deliver", server_down_for_the_second)
    with pytest.raises(OSError):
        notices.tell_supporters_deadline_extended(extension_id=extension.pk)
    assert [m.to for m in mail.outbox] == [[donors[0].email]]
    extension.refresh_from_db()
    assert extension.told_at is None

    monkeypatch.setattr(slate_mail, "deliver", real_deliver)
    dispatched = extension.dispatched_at
    # Within the grace the task's own retries have, the sweeper leaves it alone.
    assert notices.finish_untold_extensions(now=dispatched + timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1
    assert tasks.sweep_milestones.run() >= 0  # the beat's task runs it too (not yet due)
    assert notices.finish_untold_extensions(now=dispatched + timedelta(minutes=11)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(d.email for d in donors)
    extension.refresh_from_db()
    assert extension.told_at is not None
    assert notices.finish_untold_extensions(now=dispatched + timedelta(minutes=12)) == 0
    assert len(mail.outbox) == 3


@pytest.mark.parametrize(
    ("delta", "reason", "code"),
    [(timedelta(days=-1), "x", "invalid_deadline"), (timedelta(0), "x", "invalid_deadline"),
     (timedelta(days=3), "  ", "required")],
)  # fmt: skip
def test_bad_extensions_are_refused_and_change_nothing(slate, organizer, delta, reason, code):
    before = slate.deadline
    with pytest.raises(SlateError) as refused:
        deadlines.extend_deadline(
            slate=slate, new_deadline=before + delta, actor=organizer, reason=reason
        )
    assert refused.value.code == code
    slate.refresh_from_db()
    assert slate.deadline == before and not DeadlineExtension.objects.exists()


def test_only_an_open_slates_deadline_is_extended():
    organizer = UserFactory()
    draft = make_draft_slate(organizer=organizer)
    with pytest.raises(SlateError) as refused:
        deadlines.extend_deadline(
            slate=draft, new_deadline=later(draft), actor=organizer, reason="r"
        )
    assert refused.value.code == "not_open"


def test_an_overdue_open_slate_cannot_be_rescued_by_an_extension(slate, organizer):
    Slate.objects.filter(pk=slate.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    with pytest.raises(SlateError) as refused:
        deadlines.extend_deadline(
            slate=slate, new_deadline=timezone.now() + timedelta(days=9), actor=organizer,
            reason="too late",
        )  # fmt: skip
    assert refused.value.code == "deadline_passed"


def test_only_this_slates_organizers_extend(slate, stranger, other_organizer):
    for user in (stranger, other_organizer):
        with pytest.raises(SlateError):
            deadlines.extend_deadline(
                slate=slate, new_deadline=later(slate), actor=user, reason="r"
            )


def test_the_page_extends_and_shows_the_history(
    client, slate, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    pledge_intake.sign_on(supporter=UserFactory(), slate=slate)
    client.force_login(organizer)
    url = reverse("organize:deadline", args=[slate.slug])
    assert client.get(url).status_code == 200
    new_deadline = later(slate).replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form(new_deadline))
    assert response["Location"] == reverse("organize:dashboard", args=[slate.slug])
    slate.refresh_from_db()
    assert slate.deadline == new_deadline
    assert "The primary moved to June." in client.get(url).content.decode()
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"new_deadline": "", "reason": "r"},
        {"new_deadline": "someday", "reason": "r"},
        {"new_deadline": "2001-01-01T00:00", "reason": "r"},
        {"new_deadline": "2999-01-01T00:00", "reason": ""},
        {"new_deadline": "2999-01-01T00:00", "reason": "\x00"},
    ],
)
def test_bad_input_on_the_page_is_a_400_and_changes_nothing(client, slate, organizer, data):
    before = slate.deadline
    client.force_login(organizer)
    response = client.post(reverse("organize:deadline", args=[slate.slug]), data)
    assert response.status_code == 400
    assert response.context["form"].errors
    slate.refresh_from_db()
    assert slate.deadline == before and not DeadlineExtension.objects.exists()


def test_the_page_is_for_this_slates_organizers(client, slate, stranger, other_organizer):
    url = reverse("organize:deadline", args=[slate.slug])
    assert client.get(url)["Location"].startswith("/accounts/login/")
    for user in (stranger, other_organizer):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, form(later(slate))).status_code == 403
    assert not DeadlineExtension.objects.exists()


def test_one_extension_failing_again_does_not_stop_the_sweep_for_the_others(
    slate, organizer, monkeypatch
):
    from organizing import notices
    from slate import mail as slate_mail

    other_slate = make_open_slate(candidates=2, min_signatures=2)
    donors = {}
    for each in (slate, other_slate):
        donors[each.pk] = UserFactory()
        pledge_services.commit_money_pledge(
            pledge=pledge_intake.create_money_pledge(
                attestations=ATTESTED, supporter=donors[each.pk], slate=each, amount_cents=900
            )
        )
    first = deadlines.extend_deadline(
        slate=slate, new_deadline=later(slate), actor=organizer, reason="Primary moved"
    )
    second = deadlines.extend_deadline(
        slate=other_slate, new_deadline=later(other_slate), actor=organizer_of(other_slate),
        reason="Filing moved",
    )  # fmt: skip
    an_hour_ago = timezone.now() - timedelta(hours=1)
    DeadlineExtension.objects.update(dispatched_at=an_hour_ago)
    real_deliver = slate_mail.deliver

    def refuses_the_first_slates_donor(message):
        if message.to == [donors[slate.pk].email]:
            raise ConnectionRefusedError("refused again")
        real_deliver(message)

    monkeypatch.setattr(slate_mail, "deliver", refuses_the_first_slates_donor)
    assert notices.finish_untold_extensions() == 1
    assert [m.to for m in mail.outbox] == [[donors[other_slate.pk].email]]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.told_at is None and second.told_at is not None


@pytest.mark.django_db(transaction=True)
def test_extensions_told_before_told_at_existed_are_not_told_again():
    """The migration that adds ``told_at`` marks the extensions already announced (their
    supporters were told through the old notice rows) as told."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("slate", "0008_mailgun_webhook_token")],
        [("slate", "0009_deadline_extension_told_at")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldSlate = old_apps.get_model("slate", "Slate")
    OldExtension = old_apps.get_model("slate", "DeadlineExtension")
    old_slate = OldSlate.objects.create(
        name="Old",
        slug="old",
        deadline=timezone.now() + timedelta(days=30),
        threshold_min_signatures=1,
    )
    announced = OldExtension.objects.create(
        slate=old_slate, previous_deadline=timezone.now(), new_deadline=timezone.now(),
        reason="x", dispatched_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip
    pending = OldExtension.objects.create(
        slate=old_slate, previous_deadline=timezone.now(), new_deadline=timezone.now(),
        reason="y",
    )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    told = dict(DeadlineExtension.objects.values_list("pk", "told_at"))
    dispatched = DeadlineExtension.objects.get(pk=announced.pk).dispatched_at
    assert told == {announced.pk: dispatched, pending.pk: None}
    # The latest migrations again, for the tests after this one.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
