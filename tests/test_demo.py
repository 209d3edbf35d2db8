"""The demo seed (`manage.py seed_demo`) and the `make run` launcher (`manage.py rundev`)."""

import copy
import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from candidates.models import Ask, Candidate
from candidates.selectors import active_invitations, plank_tallies, valid_signatures
from demo.candidate_story import ASK_COUNTS
from demo.cards import save_test_card
from demo.released import LOGIN as RELEASED_LOGIN
from demo.released import MONEY_PLEDGES, seed_released_demo
from demo.seed import seed_demo
from demo.story import DEMO_PASSWORD, DEMO_SLATE_SLUG, PLANKS
from demo.totp import demo_totp_code
from escrow import selectors as escrow_selectors
from escrow.models import Payment, Payout
from pledges import selectors as pledge_selectors
from pledges.models import Pledge, Referral
from pledges.states import PledgeKind, PledgeState
from slate import selectors as slate_selectors
from slate.models import PartnerOrganization, Slate
from slate.states import SlateState
from slate.totals import BREAKDOWN_DIMENSIONS
from volunteers import hours as volunteer_hours

REPO = Path(__file__).resolve().parent.parent
User = get_user_model()


TWO_FACTOR_LOGINS = {
    "organizer", "candidate", "candidate4", "candidate9", "union", "civic", "admin"
}  # fmt: skip


@pytest.fixture(scope="class")
def demo_seed(django_db_setup, django_db_blocker):
    """The demo, seeded once for a class of tests, as Django's ``TestCase.setUpTestData`` does:
    in a transaction that stays open until the class's last test is done, then is rolled back.
    Each test runs in its own savepoint inside it (its ``django_db`` mark), so whatever a test
    writes is undone before the next one starts, and, as under a test's own transaction, no
    on_commit callback of the seed or of a test ever runs."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = seed_demo()
        try:
            with django_db_blocker.block():  # outside the tests, as without this fixture
                yield result
        finally:
            transaction.set_rollback(True)


@pytest.fixture
def seeded(demo_seed, db):
    """The seed's result and the demo slate, each test its own copies (as fresh as a seed of
    its own would give it)."""
    # The rows roll back between the class's tests, the cache does not: start each clean, as
    # a test with its own seed did (the shared seed keeps its ids from test to test).
    cache.clear()
    return copy.deepcopy(demo_seed), Slate.objects.get(slug=DEMO_SLATE_SLUG)


# One worker runs the whole class under pytest-xdist (`make test`), so the demo is seeded
# once, not once on each worker that gets one of its tests.
@pytest.mark.xdist_group("demo_seed")
@pytest.mark.django_db
class TestTheSeededDemo:
    """The demo as ``seed_demo`` leaves it (the seed runs once for the class: ``demo_seed``)."""

    def test_seed_builds_an_open_slate_with_a_realistic_mix_of_pledges(self, seeded):
        result, slate = seeded
        assert result.created
        assert slate.name == "2026 Coordinated Slate"
        assert slate.state == SlateState.OPEN
        assert slate.threshold_min_signatures == 5
        assert (slate.threshold_min_money_cents, slate.threshold_min_volunteer_hours) == (0, 0)
        assert [plank.title for plank in slate.planks.order_by("position")] == [
            t for t, _ in PLANKS
        ]
        assert all(plank.summary for plank in slate.planks.all())

        assert active_invitations(slate).count() == 8
        assert (slate.invited_candidate_count, slate.signed_candidate_count) == (8, 3)
        signers = {signature.candidate.user.email for signature in valid_signatures(slate)}
        assert len(signers) == 3
        assert "candidate@slate.test" in signers
        # Every signer committed to all ten planks; two stated a public reservation.
        tallies = plank_tallies(slate)
        assert [t.title for t in tallies] == [t for t, _ in PLANKS]
        assert all((t.committed, t.invited) == (3, 8) for t in tallies)
        candidates = Candidate.objects.filter(invitations__slate=slate)
        assert candidates.exclude(statement="").count() == 4
        assert not candidates.filter(public_phone="").exists()
        # One candidate declined in public, with a reason.
        declined = slate.invitations.get(status="declined")
        assert declined.decline_reason
        assert declined.candidate.full_name == "Grant Sorensen"
        # Supporters asked each unsigned candidate to sign, some with a message.
        assert Ask.objects.filter(slate=slate).count() == sum(ASK_COUNTS.values())
        assert not Ask.objects.filter(slate=slate, candidate__signatures__isnull=False).exists()
        assert Ask.objects.filter(slate=slate).exclude(message="").exists()
        reservations = [r for t in tallies for r in t.reservations]
        assert sorted(r.candidate.full_name for r in reservations) == [
            "Darnell Whitaker", "Priya Raman",
        ]  # fmt: skip
        assert Candidate.objects.filter(verified_at__isnull=False, user__isnull=False).count() == 8
        assert len(set(Candidate.objects.values_list("office", flat=True))) >= 4

        endorsements = slate.endorsements.select_related("organization")
        assert endorsements.count() == 2
        assert {e.organization.kind for e in endorsements} == {
            PartnerOrganization.Kind.UNION,
            PartnerOrganization.Kind.CIVIC,
        }
        assert all(e.organization.verified for e in endorsements)

        pledges = Pledge.objects.filter(slate=slate)
        supporters = User.objects.filter(username__regex=r"^supporter\d{3}$")
        assert supporters.count() == 300
        kinds = set(pledges.values_list("kind", flat=True))
        assert kinds == {PledgeKind.MONEY, PledgeKind.VOLUNTEER, PledgeKind.SIGNON}
        # The card step belongs to escrow; the demo commits every money pledge.
        money = pledges.filter(kind=PledgeKind.MONEY)
        assert not money.exclude(state=PledgeState.COMMITTED).exists()
        assert len(set(pledges.values_list("supporter_state", flat=True))) >= 12
        referred = pledges.filter(referred_by__isnull=False).values("supporter").distinct().count()
        assert 0.2 < referred / pledges.values("supporter").distinct().count() < 0.45
        # Backdated over the last three weeks, so the daily growth chart has data.
        days = slate_selectors.slate_breakdown(slate.pk, "day")
        assert len(days) >= 15
        now = timezone.now()
        assert not pledges.filter(created_at__gt=now).exists()
        assert not pledges.filter(created_at__lt=now - timedelta(days=21)).exists()
        assert slate.opened_at < min(pledges.values_list("created_at", flat=True))
        # The demo clock is gone once the seed returns.
        assert abs(Pledge._meta.get_field("created_at").get_default() - now) < timedelta(seconds=5)

    def test_seed_is_idempotent(self, seeded):
        def census():
            return (
                Pledge.objects.count(),
                User.objects.count(),
                Slate.objects.count(),
                Candidate.objects.count(),
                slate_selectors.slate_counts(seeded[1].pk),
            )

        before = census()
        again = seed_demo()
        assert not again.created
        assert again.logins == seeded[0].logins
        assert census() == before

    def test_maintained_totals_equal_a_recount(self, seeded):
        _, slate = seeded
        recount = pledge_selectors.recount_slate(slate.id)
        counts = slate_selectors.slate_counts(slate.id)
        assert recount.counts == counts
        assert counts.supporter_count == 301  # the 300 and supporter@slate.test
        maintained = {
            (dimension, key): value
            for dimension in BREAKDOWN_DIMENSIONS
            for key, value in slate_selectors.slate_breakdown(slate.id, dimension)
        }
        assert maintained == recount.breakdown

    def test_demo_logins_authenticate(self, seeded, client):
        result, _ = seeded
        roles = {role.split(" ")[0] for role, _, _ in result.logins}
        assert {"organizer", "candidate", "supporter", "staff"} <= roles
        for _, email, password in result.logins:
            assert password == DEMO_PASSWORD
            username = email.split("@")[0]
            user = authenticate(username=username, password=password)
            assert user is not None and user.email == email
            assert EmailAddress.objects.filter(user=user, email=email, verified=True, primary=True)
            # allauth's own login form, by email; people whose role requires two-factor then give
            # the code for the published demo secret.
            response = client.post("/accounts/login/", {"login": email, "password": password})
            assert response.status_code == 302, email
            if email.split("@")[0] in TWO_FACTOR_LOGINS:
                assert response["Location"] == "/accounts/2fa/authenticate/", email
                assert client.session.get("_auth_user_id") is None
                cache.clear()  # the same code may not be used twice; these logins share a secret
                response = client.post(response["Location"], {"code": demo_totp_code()})
                assert response.status_code == 302, email
            else:
                assert not user.authenticator_set.exists(), email
            assert client.session.get("_auth_user_id") == str(user.pk)
            client.logout()
        admin = User.objects.get(email="admin@slate.test")
        assert admin.is_staff and admin.is_superuser
        assert authenticate(username="supporter042", password=DEMO_PASSWORD) is not None

    def test_the_organizers_draft_has_a_claimed_and_an_unclaimed_candidate(self, seeded):
        """So the organizer's pages have something to continue, verify and share."""
        from candidates.models import Invitation
        from demo.story import DRAFT_SLATE_SLUG

        draft = Slate.objects.get(slug=DRAFT_SLATE_SLUG)
        assert draft.state == SlateState.DRAFT
        assert draft.organizers.get().email == "organizer@slate.test"
        claimed = {
            invitation.candidate.full_name: invitation.candidate.user
            for invitation in Invitation.objects.filter(slate=draft).select_related("candidate")
        }
        assert claimed["Marisol Vega"].email == "candidate9@slate.test"
        assert claimed["Owen Castellano"] is None
        assert not Candidate.objects.get(full_name="Marisol Vega").verified

    def test_the_demo_has_a_public_roll_and_referral_chains(self, seeded, client):
        _, slate = seeded
        roll = pledge_selectors.public_roll(slate)
        assert roll.total > 50 and len(roll.names) == 50
        assert all(name.endswith(".") for name, _ in roll.names)  # first name, last initial
        sam = User.objects.get(email="supporter@slate.test")
        brought = pledge_selectors.brought_by(sam)
        assert brought.people == 5
        # "You brought 5 people and $X": X is what those five pledged in money, live.
        assert brought.money_cents == sum(
            Pledge.objects.filter(
                slate=slate, kind=PledgeKind.MONEY, supporter__referred_to__referrer=sam
            ).values_list("amount_cents", flat=True)
        )
        assert brought.money_cents > 0
        # a chain: one of the people Sam brought brought three more, each counted once
        first = Referral.objects.filter(referrer=sam).order_by("supporter_id").first().supporter
        assert pledge_selectors.brought_by(first).people == 3
        page = client.get(slate.get_absolute_url()).content.decode()
        assert 'data-testid="public-roll"' in page
        # Template comments stay out of the page ({# #} is one line only; it showed as text).
        assert "{#" not in page and "#}" not in page

    def test_the_demos_partners_have_sub_codes_with_figures(self, seeded, client):
        _, slate = seeded
        union = PartnerOrganization.objects.get(admins__email="union@slate.test")
        figures = dict(slate_selectors.partner_code_slices(slate.pk, union))
        assert sorted(code.code for code in figures) == [
            "cleveland",
            "detroit",
            "spring-newsletter",
        ]
        assert all(counts.pledge_count > 0 for counts in figures.values())
        assert sum(counts.money_cents for counts in figures.values()) > 0
        # The codes' pledges are part of the organization's, not more than it: some came by its
        # plain link.
        referred = slate_selectors.partner_slice(slate.pk, union.pk)
        assert 0 < sum(c.pledge_count for c in figures.values()) < referred.pledge_count
        # What the union's admin sees on the partner dashboard: each code's own row and link.
        client.force_login(User.objects.get(email="union@slate.test"))
        page = client.get(f"/orgs/{union.slug}/dashboard/").content.decode()
        for code in figures:
            assert f'data-testid="code-{code.code}"' in page
            assert f"/r/{union.slug}/{slate.slug}/{code.code}/" in page

    def test_the_demos_books_balance(self, seeded):
        out = io.StringIO()
        call_command("check_ledger", stdout=out)
        assert "ledger ok" in out.getvalue()


@pytest.mark.django_db
@override_settings(SLATE_ENV="production", STRIPE_SECRET_KEY="")  # no cards: no Stripe here
def test_seed_command_refuses_in_production_unless_forced():
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not Slate.objects.exists() and not User.objects.exists()
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    slate = Slate.objects.get(slug=DEMO_SLATE_SLUG)
    assert slate.state == SlateState.OPEN
    assert User.objects.filter(email="admin@slate.test", is_superuser=True).exists()
    assert f"/slates/{DEMO_SLATE_SLUG}/" in out.getvalue()


# --- rundev -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    pids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    return pids


# Hang bounds, not timings: on two cores shared with another test worker, migrating and
# seeding the demo has taken close to two minutes before the banner.
@pytest.mark.timeout(600)
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds children through /proc")
def test_rundev_serves_the_demo_and_stops_on_sigint(tmp_path):
    port, stripe_port = _free_port(), _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "REDIS_URL", "SLATE_ENV", "CELERY_TASK_ALWAYS_EAGER"}
        and not key.startswith("STRIPE_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'rundev.sqlite3'}",
        SLATE_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="slate.settings",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "rundev.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "rundev",
                "--port",
                str(port),
                "--stripe-port",
                str(stripe_port),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup cannot hit pytest
        )
    groups = [process.pid]
    try:
        deadline = time.monotonic() + 300
        url = None
        while url is None:
            output = log_path.read_text(errors="replace")
            match = re.search(r"Slate is running at (http://127\.0\.0\.1:\d+/)", output)
            if match:
                url = match.group(1)
                break
            assert process.poll() is None, f"rundev exited early:\n{output[-4000:]}"
            assert time.monotonic() < deadline, f"no banner after 300 s:\n{output[-4000:]}"
            time.sleep(0.5)
        assert url == f"http://127.0.0.1:{port}/"
        assert "organizer@slate.test" in output and "slate-demo" in output
        # The released demo slate was released by the seed itself, before the banner; its
        # candidate's login is printed with the others.
        assert "Released slate with results: 2026 Sun Belt Slate" in output
        assert "candidate11@slate.test" in output
        assert "demo_totp_code" in output
        assert f"Fake Stripe:  http://127.0.0.1:{stripe_port}" in output
        fake_stripe_file = tmp_path / "var" / "fake-stripe.json"
        assert f"http://127.0.0.1:{stripe_port}" in fake_stripe_file.read_text()

        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            page = response.read().decode()
        assert "2026 Coordinated Slate" in page
        # The fake Stripe, the web server and the worker, each leading its own process group
        # (beat is in the worker's); rundev's own group holds just rundev.
        groups = [process.pid, *_children(process.pid)]
        assert len(groups) == 4

        # What the README promises a person trying the demo: sign as the demo candidates who
        # have not yet, the slate locks, and the worker releases the money through the fake
        # Stripe, on SQLite and the filesystem broker, with balanced books. The commands run
        # as an operator runs them in a second terminal: with no Stripe settings of their own.
        _manage(env, "shell", "-c", SIGN_UNTIL_LOCKED)
        database = tmp_path / "rundev.sqlite3"
        state = _wait_for_slate_state(database, {"released"}, timeout=300, log_path=log_path)
        assert state == "released"
        with sqlite3.connect(database) as db:
            captured = db.execute(
                "SELECT count(*) FROM pledges_pledge p JOIN slate_slate s ON p.slate_id = s.id "
                "WHERE s.slug = ? AND p.state = 'captured'",
                [DEMO_SLATE_SLUG],
            ).fetchone()[0]
        assert captured > 0
        assert "ledger ok" in _manage(env, "check_ledger")
        # reconcile finds the fake Stripe rundev started and says what it found in a few
        # lines, not a log line per Stripe request.
        reconciled = _manage(env, "reconcile")
        assert f"{DEMO_SLATE_SLUG}: ok" in reconciled
        assert re.search(
            rf"Compared [1-9]\d* payment\(s\) of \d+ slate\(s\) with Stripe "
            rf"\(http://127\.0\.0\.1:{stripe_port}\): no differences\.",
            reconciled,
        ), reconciled
        assert "Request to Stripe api" not in reconciled
        assert len(reconciled.splitlines()) < 20, reconciled

        process.send_signal(signal.SIGINT)
        stop_deadline = time.monotonic() + 20
        process.wait(timeout=20)
        while any(map(_group_alive, groups)) and time.monotonic() < stop_deadline:
            time.sleep(0.2)
        assert not any(map(_group_alive, groups)), "a child of rundev outlived it"
        assert not fake_stripe_file.exists()  # commands run later do not call a dead fake
        assert process.returncode == 0, log_path.read_text(errors="replace")[-4000:]
    finally:
        # A failure before the children were counted still stops them (each leads its own
        # process group): the fake Stripe outlived failed runs before.
        if process.poll() is None:
            groups = sorted({*groups, process.pid, *_children(process.pid)})
        for pgid in groups:
            if _group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
        process.wait(timeout=10)


def _stripe_settings_seen_by_a_command(env: dict) -> str:
    output = _manage(
        env, "shell", "-c",
        "from django.conf import settings; "
        "print('stripe:', settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY)",
    )  # fmt: skip
    [line] = [line for line in output.splitlines() if line.startswith("stripe:")]
    return line.removeprefix("stripe:").strip()


def test_commands_beside_rundev_find_its_fake_stripe_and_keys_in_the_environment_win(tmp_path):
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"SLATE_ENV", "DJANGO_SETTINGS_MODULE"} and not key.startswith("STRIPE_")
    }  # fmt: skip
    env.update(SLATE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="slate.settings")
    assert _stripe_settings_seen_by_a_command(env) == ""
    (tmp_path / "fake-stripe.json").write_text(
        '{"STRIPE_API_BASE": "http://127.0.0.1:8420", "STRIPE_SECRET_KEY": "sk_test_slate_dev"}'
    )
    assert _stripe_settings_seen_by_a_command(env) == "http://127.0.0.1:8420 sk_test_slate_dev"
    env.update(STRIPE_SECRET_KEY="sk_test_mine")  # the operator's own Stripe
    assert _stripe_settings_seen_by_a_command(env) == "sk_test_mine"


SIGN_UNTIL_LOCKED = """
from candidates import services, signatures
from candidates.models import Candidate
from candidates.selectors import current_agreement_version, valid_signatures
from demo.story import DEMO_SLATE_SLUG
from slate.models import Slate

slate = Slate.objects.get(slug=DEMO_SLATE_SLUG)
signed = valid_signatures(slate).values_list("candidate_id", flat=True)
waiting = Candidate.objects.filter(invitations__slate=slate, user__isnull=False)
for candidate in waiting.exclude(pk__in=list(signed)).order_by("pk"):
    slate.refresh_from_db()
    if slate.state != "open":
        break
    try:
        signatures.sign_agreement(
            candidate=candidate, slate=slate, typed_name=candidate.full_name,
            agreement_version_id=current_agreement_version(slate).pk, signer=candidate.user,
            ip_address="203.0.113.9", user_agent="test_demo",
        )
    except services.CandidateError as refused:  # e.g. not yet verified by the organizer
        print("not signed:", candidate, refused)
slate.refresh_from_db()
print("slate is", slate.state)
"""


def _manage(env: dict, *arguments: str) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *arguments], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py {arguments[0]} failed:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr  # the log (stderr) too: what an operator sees


def _wait_for_slate_state(database: Path, states: set[str], *, timeout: float, log_path) -> str:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            row = db.execute(
                "SELECT state FROM slate_slate WHERE slug = ?", [DEMO_SLATE_SLUG]
            ).fetchone()
        state = row[0] if row else None
        if state in states:
            return state
        time.sleep(1)
    output = log_path.read_text(errors="replace")[-4000:]
    raise AssertionError(f"demo slate still {state!r} after {timeout:.0f} s:\n{output}")


# --- The released slate (needs a Stripe: the tests' localstripe) ---------------------------


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)  # the lock's release runs at a real commit
def test_the_demo_has_a_released_slate_with_results(localstripe, client):
    seed_demo()
    assert seed_released_demo() is None  # no Stripe to charge: nothing to release
    slate = seed_released_demo(save_card=save_test_card)
    assert slate is not None and slate.state == SlateState.RELEASED
    assert slate.transitions.filter(to_state=SlateState.LOCKED).exists()
    signers = {s.candidate_id for s in valid_signatures(slate)}
    assert len(signers) == slate.invited_candidate_count == 3

    # Each money pledge was charged once at the Stripe, and the results' figures are those
    # captures: released per signer, paid out in full, disbursed by the treasurer.
    money = Pledge.objects.filter(slate=slate, kind=PledgeKind.MONEY)
    assert money.count() == MONEY_PLEDGES
    assert not money.exclude(state=PledgeState.CAPTURED).exists()
    captured = Payment.objects.filter(
        pledge__slate=slate, status=Payment.Status.SUCCEEDED
    ).aggregate(total=Sum("captured_cents"))["total"]
    assert captured == sum(money.values_list("amount_cents", flat=True))
    assert captured == sum(localstripe.captured_cents_for(pledge_id=p.pk) for p in money)
    figures = escrow_selectors.released_by_candidate(slate.pk)
    assert set(figures) == signers
    assert sum(released for released, _ in figures.values()) == captured
    assert all(paid == released > 0 for released, paid in figures.values())
    assert not Payout.objects.filter(slate=slate, disbursed_at__isnull=True).exists()
    # Hours delivered in shifts after the lock.
    hours = volunteer_hours.hours_for_slate(slate)
    assert hours.delivered_minutes > 0 and hours.pledged_hours > 0
    # Sign-ons, some on the public roll.
    assert 0 < pledge_selectors.public_roll(slate).total < 50

    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "ledger ok" in out.getvalue()

    # Where people see it: the slate's results, the directory's released slates, the home
    # page's wins.
    page = client.get(slate.get_absolute_url()).content.decode()
    assert 'data-testid="released-per-candidate"' in page
    assert "Marta Delgado" in page and "delivered in shifts" in page
    assert slate.name in client.get("/slates/?status=released").content.decode()
    assert slate.name in client.get("/").content.decode()
    # Its first candidate's login, printed with the others.
    assert User.objects.get(email=RELEASED_LOGIN[1]).check_password(DEMO_PASSWORD)

    # Idempotent, like the rest of the seed.
    payments = Payment.objects.count()
    assert seed_released_demo(save_card=save_test_card) is None
    assert Payment.objects.count() == payments
