"""The candidates' part of the demo story (``demo.seed`` seeds it): plank commitments with
public reservations, statements the candidates wrote, supporters' asks and one declined
invitation. Only data; the seed calls the real services with it."""

# candidate name -> {plank position: the reservation they state publicly}
RESERVATIONS: dict[str, dict[int, str]] = {
    "Priya Raman": {
        10: "I support lifting the cap, phased in over four years so small employers can plan.",
    },
    "Darnell Whitaker": {
        8: "Buyback limits yes; I will judge each antitrust case on its own record.",
    },
}

# candidate name -> the statement they wrote for their public page
STATEMENTS: dict[str, str] = {
    "Elena Marquez": (
        "I signed because one House seat cannot pass health care alone. Eight of us, voting "
        "together and showing up in each other's states, can.\n\nI keep my own campaign; I "
        "give up running against my allies."
    ),
    "Darnell Whitaker": (
        "Georgia needs a senator who keeps the promises other candidates make with them. "
        "I am on this slate because the supporters asked for a bloc, not a brand."
    ),
    "Priya Raman": (
        "Michigan's 14th sent me to Lansing to fix things that need more than one vote. "
        "The slate is how state and federal candidates finally work from one program."
    ),
    "Walt Brennan": (
        "I am reading the agreement closely. An independent owes Maine voters an answer on "
        "every plank, and I will give it before I sign anything."
    ),
}


def public_contact(name: str) -> dict[str, str]:
    """The campaign's public phone and email, as an organizer would enter them."""
    handle = "".join(ch for ch in name.lower() if ch.isalpha())
    number = sum(map(ord, handle)) % 9000 + 1000
    return {"public_phone": f"(555) 010-{number}", "public_email": f"office@{handle}.example.org"}


# unsigned candidate name -> how many supporters asked them to sign
ASK_COUNTS: dict[str, int] = {
    "Walt Brennan": 24,
    "Ruth Abernathy": 15,
    "Tomás Herrera": 9,
    "Jonah Lindqvist": 6,
    "Keisha Monroe": 11,
}
ASK_MESSAGES: tuple[str, ...] = (
    "I gave $50 and twenty hours. They are yours the day you sign.",
    "Maine needs you in the bloc. Please sign before the deadline.",
    "My union local is waiting on you. Sign and we knock doors every weekend.",
    "You said you support health care for all. This is how it passes.",
    "",
    "Sign it. We will remember who did.",
    "",
)

# The one candidate who declined in public: name, office, state, district, party, account
DECLINER: tuple[str, str, str, str, str, str] = (
    "Grant Sorensen", "house", "IA", "3", "Democratic", "candidate10",
)  # fmt: skip
DECLINE_REASON = (
    "I agree with most of the planks, but I promised my district I would run without any "
    "national slate. I wish the signers well."
)
