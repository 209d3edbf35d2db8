"""The demo's story: its open slate (mission, planks, agreement, candidates), the organizer's
draft, the timeline, and the logins it prints. Only data; ``demo.seed`` builds it."""

from dataclasses import dataclass, field

from candidates.models import Candidate

DEMO_SLATE_SLUG = "2026-coordinated-slate"
DEMO_SLATE_NAME = "2026 Coordinated Slate"
DEMO_PASSWORD = "slate-demo"  # noqa: S105 - public by design: printed in the dev banner
DEMO_DOMAIN = "slate.test"

ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
ORGANIZER_EMAIL = f"organizer@{DEMO_DOMAIN}"
SUPPORTER_EMAIL = f"supporter@{DEMO_DOMAIN}"
CANDIDATE_EMAIL = f"candidate@{DEMO_DOMAIN}"
UNSIGNED_CANDIDATE_EMAIL = f"candidate4@{DEMO_DOMAIN}"
CLAIMED_CANDIDATE_EMAIL = f"candidate9@{DEMO_DOMAIN}"
UNION_ADMIN_EMAIL = f"union@{DEMO_DOMAIN}"
CIVIC_ADMIN_EMAIL = f"civic@{DEMO_DOMAIN}"

LOGINS: tuple[tuple[str, str, str], ...] = (
    ("organizer", ORGANIZER_EMAIL, DEMO_PASSWORD),
    ("candidate (signed)", CANDIDATE_EMAIL, DEMO_PASSWORD),
    ("candidate (not yet signed)", UNSIGNED_CANDIDATE_EMAIL, DEMO_PASSWORD),
    ("candidate (claimed, awaiting verification)", CLAIMED_CANDIDATE_EMAIL, DEMO_PASSWORD),
    ("supporter", SUPPORTER_EMAIL, DEMO_PASSWORD),
    ("partner org admin (union)", UNION_ADMIN_EMAIL, DEMO_PASSWORD),
    ("partner org admin (civic group)", CIVIC_ADMIN_EMAIL, DEMO_PASSWORD),
    ("staff admin", ADMIN_EMAIL, DEMO_PASSWORD),
)


@dataclass(frozen=True)
class DemoLogins:
    """What the seed leaves for a person to try: ``logins`` is ``[(role, email, password)]``."""

    logins: list[tuple[str, str, str]] = field(default_factory=lambda: list(LOGINS))
    created: bool = False
    slate_slug: str = DEMO_SLATE_SLUG
    pledge_count: int = 0
    seconds: float = 0.0


MISSION = (
    "Eight candidates for federal, state and city office, one shared program. "
    "Pledge your money, your hours and your name now: nothing is released to any of them "
    "until at least five sign a binding agreement to share resources, campaign together and "
    "vote as a bloc on the ten planks below. If they do not coordinate by the deadline, "
    "every hold is released and nobody is charged."
)

PLANKS: tuple[tuple[str, str], ...] = (
    (
        "Universal health care",
        "Guarantee every resident comprehensive coverage through a single public program, "
        "free at the point of service.",
    ),
    (
        "Environmental protection",
        "Restore and enforce clean-air, clean-water and public-lands protections and make "
        "polluters pay for the damage they cause.",
    ),
    (
        "Campaign finance reform",
        "End unlimited outside spending, disclose every large political donor and fund "
        "small-donor public financing.",
    ),
    (
        "Education and student debt",
        "Make public college and trade school tuition-free and cancel crushing student debt.",
    ),
    (
        "Civil rights",
        "Protect the vote and equal treatment under the law regardless of race, sex, religion, "
        "disability, sexual orientation or gender identity.",
    ),
    (
        "Climate",
        "Reach net-zero emissions by 2045 through a just transition that creates union jobs "
        "in clean energy.",
    ),
    (
        "Free speech and church–state separation",
        "Defend free expression for everyone and keep government neutral toward religion.",
    ),
    (
        "Breaking up monopolies and limiting buybacks",
        "Enforce antitrust law against dominant corporations and limit the stock buybacks "
        "that drain investment and wages.",
    ),
    (
        "Progressive income tax",
        "Restore steeply progressive income-tax brackets so the highest earners pay their "
        "fair share.",
    ),
    (
        "Lifting the Social Security payroll cap",
        "Apply the Social Security payroll tax to all earnings, not just those under the cap, "
        "to keep full benefits secure for generations.",
    ),
)

AGREEMENT_TITLE = "2026 Coordinated Slate: coordination agreement"
AGREEMENT_TEXT = """\
We, the undersigned candidates, agree to run in 2026 as one slate. Each of us keeps our own \
campaign, committee and treasurer, but from the day this agreement unlocks the slate's pledges \
we act as partners, not rivals, wherever our races touch.

1. Shared resources. We share voter contacts, volunteer shifts, canvassing turf, event \
calendars and research with one another as far as federal and state law allow. Money pledged \
to the slate is divided as each supporter chose, or equally among the signers; none of us \
will ask a supporter to redirect a slate pledge to our own campaign alone.

2. Voting as a bloc. Once elected, we vote together on the ten planks of this slate: \
universal health care, environmental protection, campaign finance reform, education and \
student debt, civil rights, climate, free speech and church–state separation, breaking up \
monopolies and limiting buybacks, a progressive income tax, and lifting the Social Security \
payroll cap. Where a plank comes to a vote in different forms, we meet beforehand and agree \
on one position; a signer who cannot support that position says so publicly and in advance.

3. Campaigning together. We appear together at least once a month in each signer's state, \
endorse one another, and do not run negative advertising against another signer. Volunteers \
recruited through the slate may be scheduled for any signer's campaign.

4. Accountability. We publish how we voted on every plank within one week of the vote. A \
signer who breaks this agreement may be removed from the slate by a two-thirds vote of the \
other signers, and their supporters are told why.

By typing my full name I sign this agreement as a candidate and confirm that I have read it \
in full."""

# name, office, state, district, party, account email
CANDIDATES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Elena Marquez", Candidate.Office.HOUSE, "AZ", "7", "Democratic", CANDIDATE_EMAIL),
    ("Darnell Whitaker", Candidate.Office.SENATE, "GA", "", "Democratic", "candidate2"),
    (
        "Priya Raman",
        Candidate.Office.STATE_LEGISLATURE,
        "MI",
        "14",
        "Working Families",
        "candidate3",
    ),
    ("Walt Brennan", Candidate.Office.SENATE, "ME", "", "Independent", "candidate4"),
    ("Ruth Abernathy", Candidate.Office.GOVERNOR, "WI", "", "Democratic", "candidate5"),
    ("Tomás Herrera", Candidate.Office.MAYOR, "TX", "", "Independent", "candidate6"),
    ("Jonah Lindqvist", Candidate.Office.HOUSE, "MN", "5", "Democratic", "candidate7"),
    (
        "Keisha Monroe",
        Candidate.Office.STATE_LEGISLATURE,
        "PA",
        "181",
        "Working Families",
        "candidate8",
    ),
)
# Each partner's codes for its chapters, mailings and events: (code, label, kind). Their
# links are /r/<organization>/<slate>/<code>/; the partner dashboard counts each code.
PARTNER_CODES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "union": (
        ("cleveland", "Cleveland chapter", "chapter"),
        ("detroit", "Detroit chapter", "chapter"),
        ("spring-newsletter", "Spring newsletter", "mailing"),
    ),
    "civic": (
        ("registration-drive", "Voter registration drive", "event"),
        ("members-email", "Members' email", "mailing"),
    ),
}
SIGNERS = 3  # the first three sign: the slate stays open, 3 of the 5 needed

# The organizer's second slate, left half-way through the wizard: a draft with two invited
# candidates, one who claimed the profile (the organizer can verify them) and one who has not
# (the organizer can copy their invitation link).
DRAFT_SLATE_SLUG = "2028-great-lakes-slate"
DRAFT_SLATE_NAME = "2028 Great Lakes Slate"
DRAFT_CANDIDATES: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("Marisol Vega", Candidate.Office.HOUSE, "MI", "13", CLAIMED_CANDIDATE_EMAIL),
    ("Owen Castellano", Candidate.Office.STATE_LEGISLATURE, "OH", "21", None),
)


# The story's timeline, in days before the seed runs.
SETUP_DAYS_AGO = 24
OPENED_DAYS_AGO = 22
ENDORSED_DAYS_AGO = 21.5
PLEDGE_WINDOW_DAYS = 21
SIGNED_DAYS_AGO = (20, 12, 4)
