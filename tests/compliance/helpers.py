"""Shared test data for the compliance tests: candidates on several slates, and captures
recorded the way escrow records them (pledge transition + balanced ledger posting)."""

from django.db import transaction

from candidates import agreements as candidate_agreements
from candidates import invitations as candidate_invitations
from candidates.models import Candidate
from escrow.ledger import Posting, post
from escrow.models import LedgerAccount
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from pledges.states import PledgeState
from slate import lifecycle as slate_lifecycle
from slate.models import Slate
from tests.factories import UserFactory, make_candidate, make_draft_slate, verify

A = LedgerAccount


def slates_sharing_candidates(
    *, slates: int = 2, candidates: int = 3, min_signatures: int = 2
) -> tuple[list[Slate], list[Candidate]]:
    """``slates`` open slates that all invite the same ``candidates`` (House candidates)."""
    organizer = UserFactory()
    drafts = [
        make_draft_slate(organizer=organizer, min_signatures=min_signatures) for _ in range(slates)
    ]
    people = [make_candidate(organizer=organizer) for _ in range(candidates)]
    for slate in drafts:
        for person in people:
            candidate_invitations.invite_candidate(slate=slate, candidate=person, actor=organizer)
    for person in people:
        verify(person, organizer)
    opened = []
    for slate in drafts:
        candidate_agreements.save_agreement_draft(slate=slate, actor=organizer, text="Together.")
        candidate_agreements.publish_agreement(slate=slate, actor=organizer)
        slate_lifecycle.open_slate(slate=slate, actor=organizer)
        slate.refresh_from_db()
        opened.append(slate)
    return opened, people


@transaction.atomic
def record_capture(pledge: Pledge, parts: dict[int, int]) -> Pledge:
    """What escrow's release records after Stripe captured ``sum(parts)``: the pledge moves
    to captured and the ledger credits each candidate, balanced."""
    pledge = Pledge.objects.get(pk=pledge.pk)
    if pledge.state == PledgeState.PENDING_CARD:
        pledge = pledge_services.commit_money_pledge(pledge=pledge)
    total = sum(parts.values())
    post(
        key=f"test-pledge-{pledge.pk}-capture", kind="capture", slate_id=pledge.slate_id,
        pledge_id=pledge.pk,
        postings=[Posting(A.PLATFORM_CLEARING, total)]
        + [Posting(A.CANDIDATE_PAYABLE, -c, candidate_id=cid) for cid, c in parts.items()],
    )  # fmt: skip
    return pledge_services.transition_pledge(
        pledge=pledge, to_state=PledgeState.CAPTURED, reason="captured (test)",
        captured_cents=total,
    )  # fmt: skip


@transaction.atomic
def record_refund(pledge: Pledge, parts: dict[int, int], number: int = 1) -> Pledge:
    """A refund of ``parts`` of a recorded capture, posted like escrow.refunds does."""
    pledge = Pledge.objects.get(pk=pledge.pk)
    total = sum(parts.values())
    post(
        key=f"test-pledge-{pledge.pk}-refund-{number}", kind="refund", slate_id=pledge.slate_id,
        pledge_id=pledge.pk,
        postings=[Posting(A.REFUNDS, -total)]
        + [Posting(A.CANDIDATE_PAYABLE, c, candidate_id=cid) for cid, c in parts.items()],
    )  # fmt: skip
    return pledge_services.record_refund(
        pledge=pledge, refunded_cents=pledge.refunded_cents + total, reason="refund (test)"
    )


DETAILS = {
    "first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Way",
    "city": "Portland", "state": "OR", "zip_code": "97201", "employer": "Self-employed",
    "occupation": "Mathematician",
}  # fmt: skip


def money_pledge(slate: Slate, supporter, cents: int, **kwargs) -> Pledge:
    """A money pledge as a supporter makes it who attests, gives their details and accepts
    any cap (the tests of those refusals are in test_pledge_flow)."""
    kwargs.setdefault("attestations", ATTESTED)
    kwargs.setdefault("donor_details", DETAILS)
    kwargs.setdefault("accept_limit_cap", True)
    return pledge_intake.create_money_pledge(
        supporter=supporter, slate=slate, amount_cents=cents, **kwargs
    )
