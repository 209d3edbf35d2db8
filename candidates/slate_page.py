"""The candidates' part of the public slate page (registered in ``CandidatesConfig.ready``)."""

from slate.models import Slate
from slate.page_sections import add_slate_page_section

from .asks import ask_counts
from .selectors import (
    commitments_by_candidate,
    current_agreement_version,
    declined_invitations,
    plank_tallies,
    slate_candidate_standings,
)
from .votes import slate_records


@add_slate_page_section
def candidates_section(slate: Slate) -> dict:
    standings = slate_candidate_standings(slate)
    commitments = commitments_by_candidate(slate)
    asks = ask_counts(slate)
    return {
        # The planks as signed: each with "k of n committed" (empty before an agreement).
        "tallies": plank_tallies(slate),
        "candidate_rows": [
            (s, commitments.get(s.candidate.pk, []), asks.get(s.candidate.pk)) for s in standings
        ],
        "signers": [s.candidate.full_name for s in standings if s.signed],
        "agreement": current_agreement_version(slate),
        "declines": declined_invitations(slate),
        # After the lock: how the signers voted on the planks (newest first).
        "vote_records": slate_records(slate) if slate.locked_at else [],
    }
