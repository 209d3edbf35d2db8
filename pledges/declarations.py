"""What a supporter must attest, and is told, before pledging money: the five statements and
the slate's conditions, shown on the pledge form and stored verbatim with each pledge.

Plain text and checks, here below compliance (which stores them in the pledge's declaration
and adds the limits and donor details) so that the pledge form and intake read them without
importing upward. Checked before anything is written."""

import hashlib
from collections.abc import Iterable, Mapping

from django.utils import timezone

from slate.models import Slate

from .validation import PledgeError

# Foreign nationals may not even promise a contribution, so these are taken at pledge time.
ATTESTATIONS: tuple[tuple[str, str], ...] = (
    (
        "citizen_or_permanent_resident",
        "I am a U.S. citizen or a lawful permanent resident (green card holder).",
    ),
    ("at_least_18", "I am at least 18 years old."),
    (
        "own_funds_not_reimbursed",
        "This contribution is made from my own funds, not those of anyone else, and I will "
        "not be reimbursed for it by any person or organization.",
    ),
    ("not_federal_contractor", "I am not a federal government contractor."),
    (
        "personal_card",
        "I am paying with my own personal card, not a corporate or business card.",
    ),
)
ATTESTATION_NAMES = tuple(name for name, _ in ATTESTATIONS)
ATTESTATION_TEXT = "\n".join(f"- {text}" for _, text in ATTESTATIONS)
# Every statement confirmed: for callers (demo, tests) that stand in for a supporter.
ATTESTED: dict[str, bool] = dict.fromkeys(ATTESTATION_NAMES, True)


def check_attestations(attestations: Mapping[str, object] | None) -> dict[str, bool]:
    """All five confirmed, or a refusal naming the first one missing."""
    attestations = attestations or {}
    for name, text in ATTESTATIONS:
        if attestations.get(name) is not True:
            raise PledgeError(
                "attestation_required",
                f"To pledge money you must confirm: {text} Federal law accepts contributions "
                "only from people who can make all five statements.",
                field=name,
            )
    return dict.fromkeys(ATTESTATION_NAMES, True)


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def slate_conditions_text(slate: Slate, invitations: Iterable | None = None) -> str:
    """The slate's conditions as the pledge page shows them: the threshold rule, the
    deadline and what happens if it fails. Stored verbatim with each pledge. ``invitations``:
    every invitation of the slate with its candidate, oldest first, if the caller read them."""
    rule = [
        f"at least {slate.threshold_min_signatures} of the invited candidates sign the "
        "coordination agreement"
    ]
    if invitations is not None:
        required = [i for i in invitations if i.is_required]
    elif slate.required_unsigned_count or slate.invitations.filter(is_required=True).exists():
        required = list(slate.invitations.filter(is_required=True).order_by("pk"))
    else:
        required = []
    if slate.required_unsigned_count or required:
        names = ", ".join(str(i.candidate) for i in required)
        rule.append(f"these candidates are among them: {names}")
    if slate.threshold_min_money_cents:
        rule.append(f"at least {_money(slate.threshold_min_money_cents)} is pledged")
    if slate.threshold_min_volunteer_hours:
        rule.append(f"at least {slate.threshold_min_volunteer_hours} volunteer hours are pledged")
    deadline = timezone.localtime(slate.deadline)
    return (
        f"Slate: {slate.name}.\n"
        f"Your card is charged only if, before {deadline:%B %-d, %Y %H:%M %Z}, "
        + "; and ".join(rule)
        + ". Then the money is split among the candidates who signed (your allocation, "
        "else equally) and forwarded to their committees within 10 days.\n"
        "If that does not happen by the deadline, nothing is charged: any authorization on "
        "your card is cancelled and your pledge is voided. You may cancel before the slate "
        "locks.\n"
        "Each candidate may receive from you no more than the federal limit per election "
        "(counting what you gave them anywhere on Slate)."
    )


def conditions_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_conditions_seen(slate: Slate, digest: str | None, invitations=None) -> str:
    """The slate's conditions, refused if they changed since the supporter's page showed
    them (``digest`` of what was shown; None when the caller shows the text itself)."""
    text = slate_conditions_text(slate, invitations)
    if digest is not None and digest != conditions_digest(text):
        raise PledgeError(
            "conditions_changed",
            "The slate's conditions changed since you opened this page. Read them again "
            "below and confirm your pledge.",
            field="conditions_digest",
        )
    return text


def personal_conditions_text(
    *, min_signatures: int | None, required_names: list[str], allow_reallocation: bool
) -> str:
    lines = []
    if min_signatures:
        lines.append(f"Your condition: at least {min_signatures} candidates sign.")
    if required_names:
        lines.append(f"Your condition: these candidates sign: {', '.join(required_names)}.")
    lines.append(
        "If your share for a candidate would exceed their limit, the excess goes to the other "
        "signed candidates."
        if allow_reallocation
        else "If your share for a candidate would exceed their limit, the excess is not charged."
    )
    return "\n".join(lines)
