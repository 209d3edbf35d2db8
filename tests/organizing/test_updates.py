"""Organizer updates (issue 18.2 and the cap of 18.4): segments, each person once, the cap,
sending twice, bad input, safe Markdown, and the counts on the sent-updates list."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizing import update_audience, update_sending, updates
from organizing.models import OrganizerUpdate, UpdateRecipient
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate import mail
from slate.errors import DomainError
from slate.models import EmailSuppression, OutboundEmail
from tests.factories import UserFactory, make_open_slate, make_partner_organization, organizer_of

pytestmark = pytest.mark.django_db
R = UpdateRecipient.Status


@pytest.fixture
def people(slate):
    """Six supporters of ``slate`` in different segments, and one of another slate."""
    union = make_partner_organization(name="Teachers Union", endorse=slate)
    p = {name: UserFactory(username=name) for name in ("ann", "bob", "cy", "dee", "eve", "fay")}
    pledge_intake.sign_on(supporter=p["ann"], slate=slate, supporter_state="CA")
    pledge_intake.create_volunteer_pledge(
        supporter=p["bob"], slate=slate, hours=3, activities=["canvassing"], zip_code="10001",
        supporter_state="NY",
    )  # fmt: skip
    money = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=p["cy"], slate=slate, amount_cents=2_500,
        supporter_state="TX", referred_by=union,
    )  # fmt: skip
    pledge_services.commit_money_pledge(pledge=money)
    # dee: a money pledge and a sign-on, both live: one email all the same
    pledge_services.commit_money_pledge(
        pledge=pledge_intake.create_money_pledge(
            attestations=ATTESTED, supporter=p["dee"], slate=slate, amount_cents=1_000,
            supporter_state="CA", referred_by=union,
        )
    )  # fmt: skip
    pledge_intake.sign_on(supporter=p["dee"], slate=slate, supporter_state="CA")
    # eve: a money pledge never committed (waiting for a card): not live
    pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=p["eve"], slate=slate, amount_cents=1_000,
        supporter_state="CA",
    )  # fmt: skip
    # fay: a sign-on, cancelled
    signon = pledge_intake.sign_on(supporter=p["fay"], slate=slate, supporter_state="CA")
    pledge_services.cancel_pledge(pledge=signon, actor=p["fay"])
    other = make_open_slate(candidates=3, min_signatures=2)
    pledge_intake.sign_on(supporter=UserFactory(username="zed"), slate=other)
    p["union"] = union
    return p


def send(slate, organizer, capture, segment=None, subject="News", body="Hello **all**"):
    with capture(execute=True):
        return updates.queue_update(
            slate=slate, author=organizer, subject=subject, body=body, segment=segment or {},
            token=uuid.uuid4(),
        )  # fmt: skip


def recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def test_an_update_reaches_its_segment_each_person_once(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks
):
    update = send(slate, organizer, django_capture_on_commit_callbacks)
    live = ["ann", "bob", "cy", "dee"]
    assert recipients(mailoutbox) == [f"{n}@example.org" for n in live]
    update.refresh_from_db()
    assert update.status == OrganizerUpdate.Status.SENT
    assert update.audience_count == 4 and update.skipped_cap_count == 0
    message = mailoutbox[0]
    assert message.subject == "News"
    assert "List-Unsubscribe" in message.extra_headers
    html = message.alternatives[0][0]
    assert "<strong>all</strong>" in html
    assert (
        OutboundEmail.objects.filter(key__startswith=f"organizer-update:{update.pk}:").count() == 4
    )


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({"kinds": ["money"]}, ["cy", "dee"]),
        ({"kinds": ["volunteer", "signon"]}, ["ann", "bob", "dee"]),
        ({"states": ["CA"]}, ["ann", "dee"]),
        ({"pledge_states": ["pending_card"]}, ["eve"]),
        ({"pledge_states": ["cancelled"]}, ["fay"]),
        ({"kinds": ["money"], "states": ["TX"]}, ["cy"]),
    ],
)
def test_each_segment_reaches_exactly_its_people(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks, segment, expected
):
    send(slate, organizer, django_capture_on_commit_callbacks, segment=segment)
    assert recipients(mailoutbox) == [f"{n}@example.org" for n in expected]


def test_segment_by_referring_organization(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks
):
    segment = {"organizations": [people["union"].pk]}
    assert (
        update_audience.audience_size(slate, update_audience.parse_segment(slate, segment)).total
        == 2
    )
    send(slate, organizer, django_capture_on_commit_callbacks, segment=segment)
    assert recipients(mailoutbox) == ["cy@example.org", "dee@example.org"]


def test_the_cap_skips_those_who_had_their_updates_and_says_how_many(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS = 2
    # Another slate's organizers wrote to ann twice this month; to bob once, 31 days ago.
    other = make_open_slate(candidates=3, min_signatures=2)
    pledge_intake.sign_on(supporter=people["ann"], slate=other, supporter_state="CA")
    pledge_intake.sign_on(supporter=people["bob"], slate=other, supporter_state="NY")
    other_organizer = organizer_of(other)
    send(other, other_organizer, django_capture_on_commit_callbacks)
    UpdateRecipient.objects.filter(supporter=people["bob"]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    send(other, other_organizer, django_capture_on_commit_callbacks, segment={"states": ["CA"]})
    # A milestone email is not an organizer update: not counted
    mail.send(
        mail.Email(to="cy@example.org", subject="Halfway", template="organizing/email/update.txt",
                   context={"slate": slate, "body": "x"}, category=mail.Category.MILESTONES,
                   slate=slate)
    )  # fmt: skip
    mailoutbox.clear()

    size = update_audience.audience_size(slate, update_audience.parse_segment(slate, {}))
    assert (size.total, size.over_cap, size.reached) == (4, 1, 3)
    update = send(slate, organizer, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == ["bob@example.org", "cy@example.org", "dee@example.org"]
    update.refresh_from_db()
    assert update.skipped_cap_count == 1
    skipped = UpdateRecipient.objects.get(update=update, status=R.SKIPPED_CAP)
    assert skipped.supporter == people["ann"]

    # A second update: bob now has two in 30 days (the old one does not count), cy and dee one.
    mailoutbox.clear()
    send(slate, organizer, django_capture_on_commit_callbacks, subject="Again")
    assert recipients(mailoutbox) == ["bob@example.org", "cy@example.org", "dee@example.org"]
    mailoutbox.clear()
    third = send(slate, organizer, django_capture_on_commit_callbacks, subject="Third")
    assert mailoutbox == []  # everyone is at the cap
    third.refresh_from_db()
    assert (third.audience_count, third.skipped_cap_count) == (4, 4)
    assert third.status == OrganizerUpdate.Status.SENT


def test_sending_the_same_form_twice_is_refused(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks
):
    token = uuid.uuid4()
    args = {"slate": slate, "author": organizer, "subject": "Once", "body": "x", "segment": {}}
    with django_capture_on_commit_callbacks(execute=True):
        updates.queue_update(token=token, **args)
    with pytest.raises(DomainError) as refused:
        updates.queue_update(token=token, **args)
    assert refused.value.code == "sent_twice"
    assert OrganizerUpdate.objects.count() == 1
    assert len(mailoutbox) == 4


def test_a_batch_run_again_sends_nobody_twice(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks
):
    """A worker that died after sending but before settling its rows: they are pending again
    and the batch runs again (the sweeper's resend, or the task's retry)."""
    update = send(slate, organizer, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 4
    UpdateRecipient.objects.filter(update=update).update(status=R.PENDING, settled_at=None)
    OrganizerUpdate.objects.filter(pk=update.pk).update(
        status=OrganizerUpdate.Status.SENDING, progress_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert update_sending.sweep() == 1
    assert len(mailoutbox) == 4
    assert set(UpdateRecipient.objects.filter(update=update).values_list("status", flat=True)) == {
        R.SENT
    }
    update.refresh_from_db()
    assert update.status == OrganizerUpdate.Status.SENT
    assert update_sending.send_batch(update.pk, 0) == 0


def test_a_lost_prepare_is_resumed_by_the_sweeper(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the message is lost
        update = updates.queue_update(
            slate=slate, author=organizer, subject="S", body="B", segment={}, token=uuid.uuid4()
        )
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert update_sending.sweep() == 0  # not stale yet
    OrganizerUpdate.objects.filter(pk=update.pk).update(
        progress_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert update_sending.sweep() == 1
    assert len(mailoutbox) == 4


def test_unsubscribed_suppressed_and_failed_are_counted(
    slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    mail.set_wanted("ann@example.org", mail.Category.ORGANIZER_UPDATES, slate.pk, False)
    EmailSuppression.objects.create(address="bob@example.org", reason="bounce")
    real = mail.deliver

    def refuse_cy(message):
        if message.to == ["cy@example.org"]:
            raise ConnectionRefusedError("mail server says no")
        return real(message)

    monkeypatch.setattr(mail, "deliver", refuse_cy)
    update = send(slate, organizer, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == ["dee@example.org"]
    # dee turns organizer updates off afterwards, through the email's one-click link
    mail.unsubscribe("dee@example.org", category=mail.Category.ORGANIZER_UPDATES, slate_id=slate.pk)
    [row] = updates.sent_updates(slate)
    assert row.update == update
    assert (row.sent, row.failed, row.not_wanted, row.skipped_cap, row.pending) == (1, 1, 2, 0, 0)
    assert row.unsubscribed_since == 1
    assert row.segment == "every supporter with a live pledge"


def test_only_the_slates_organizers_write_to_its_supporters(slate, people, other_organizer):
    with pytest.raises(DomainError) as refused:
        updates.queue_update(
            slate=slate, author=other_organizer, subject="S", body="B", segment={},
            token=uuid.uuid4(),
        )  # fmt: skip
    assert refused.value.code == "not_organizer"
    assert not OrganizerUpdate.objects.exists()


@pytest.mark.parametrize(
    ("subject", "body", "segment", "code"),
    [
        ("", "Hello", {}, "empty_update"),
        ("Hi", "   \n ", {}, "empty_update"),
        ("Hi", "x" * 20_001, {}, "update_too_long"),
        ("x" * 201, "Hello", {}, "update_too_long"),
        ("Hi", "Hello", {"kinds": ["bitcoin"]}, "unknown_segment"),
        ("Hi", "Hello", {"zodiac": ["leo"]}, "unknown_segment"),
        ("Hi", "Hello", {"organizations": ["999999"]}, "unknown_segment"),
        ("Hi", "Hello", {"organizations": ["not a number"]}, "unknown_segment"),
        ("Hi", "Hello", {"states": ["XX"]}, "unknown_segment"),
        ("Hi", "Hello", {"states": ["WY"]}, "empty_segment"),
    ],
)
def test_bad_updates_are_refused_and_send_nothing(
    slate, organizer, people, mailoutbox, subject, body, segment, code
):
    with pytest.raises(DomainError) as refused:
        updates.queue_update(
            slate=slate, author=organizer, subject=subject, body=body, segment=segment,
            token=uuid.uuid4(),
        )  # fmt: skip
    assert refused.value.code == code
    assert not OrganizerUpdate.objects.exists()
    assert mailoutbox == []


def test_markdown_never_passes_raw_html():
    html = updates.render_body(
        "# Rally\n**Saturday** <script>alert(1)</script> <b onclick=x>hi</b>\n"
        "[ok](https://example.org) [bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
        "\n- one\n- two"
    )
    assert "<script" not in html and "<b " not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert '<a href="https://example.org">ok</a>' in html
    assert 'href="javascript' not in html
    assert "<h1>Rally</h1>" in html and "<strong>Saturday</strong>" in html
    assert "<li>one</li>" in html


# --- The composer page ------------------------------------------------------------------------


def composer_post(client, slate, action, **fields):
    data = {"subject": "Rally on Saturday", "body": "Come **along**.", "token": str(uuid.uuid4())}
    data.update(fields)
    return client.post(reverse("organize:updates", args=[slate.slug]), {**data, "action": action})


def test_composer_previews_tests_and_sends(
    client, slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    page = client.get(reverse("organize:updates", args=[slate.slug]))
    assert page.status_code == 200 and b"No updates sent yet." in page.content

    preview = composer_post(client, slate, "preview", kinds=["money"])
    assert preview.status_code == 200
    assert b"<strong>along</strong>" in preview.content
    assert preview.context["size"].reached == 2
    assert b"Send to 2 supporters" in preview.content
    assert mailoutbox == []

    test = composer_post(client, slate, "test", kinds=["money"])
    assert test.status_code == 200
    assert [m.to for m in mailoutbox] == [[organizer.email]]
    assert mailoutbox[0].subject == "[Test] Rally on Saturday"
    mailoutbox.clear()

    token = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        sent = composer_post(client, slate, "send", kinds=["money"], token=token)
    assert sent.status_code == 302
    assert recipients(mailoutbox) == ["cy@example.org", "dee@example.org"]
    listing = client.get(reverse("organize:updates", args=[slate.slug]))
    assert listing.context["sent_updates"][0].sent == 2
    assert b"Rally on Saturday" in listing.content

    # The same form again (back button, double click): refused, nothing sent
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = composer_post(client, slate, "send", kinds=["money"], token=token)
    assert again.status_code == 400
    assert "sent already" in again.content.decode()
    assert mailoutbox == [] and OrganizerUpdate.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": ""}, "Write a subject."),
        ({"body": "   "}, "Write the update: it is empty."),
        ({"body": "x" * 20_001}, "at most 20000 characters"),
        ({"kinds": ["bitcoin"]}, "Select a valid choice"),
        ({"organizations": ["123456"]}, "Select a valid choice"),
        ({"states": ["WY"]}, "No supporter with an email address is in this segment."),
        ({"token": "nope"}, "The form is out of date"),
    ],
)
def test_composer_explains_bad_input_and_sends_nothing(
    client, slate, organizer, people, mailoutbox, django_capture_on_commit_callbacks, fields,
    message,
):  # fmt: skip
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = composer_post(client, slate, "send", **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert mailoutbox == [] and not OrganizerUpdate.objects.exists()


def test_composer_refuses_an_unknown_action(client, slate, organizer, people, mailoutbox):
    client.force_login(organizer)
    response = composer_post(client, slate, "blast")
    assert response.status_code == 400
    assert mailoutbox == []


def test_composer_is_for_this_slates_organizers_only(client, slate, people, other_organizer):
    client.force_login(other_organizer)
    assert composer_post(client, slate, "send").status_code == 403
    assert not OrganizerUpdate.objects.exists()
