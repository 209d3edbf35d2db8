"""What a partner organization's admins see: aggregates only, never a person's details."""

from dataclasses import dataclass

from slate import selectors as slate_selectors
from slate.models import Endorsement, PartnerOrganization
from slate.selectors import SlateProgress
from slate.totals import BreakdownCounts


@dataclass(frozen=True)
class EndorsedSlate:
    endorsement: Endorsement
    progress: SlateProgress
    referred: BreakdownCounts  # live pledges that came through this organization's links


@dataclass(frozen=True)
class PartnerDashboard:
    organization: PartnerOrganization
    slates: list[EndorsedSlate]

    @property
    def referred_total(self) -> BreakdownCounts:
        total = BreakdownCounts()
        for row in self.slates:
            total = total + row.referred
        return total


def partner_dashboard(organization: PartnerOrganization) -> PartnerDashboard:
    """Per endorsed slate: its progress and what this organization's referrals brought, from
    the maintained 'partner' shards (no pledge is read)."""
    endorsements = organization.endorsements.select_related("slate").order_by("slate__deadline")
    return PartnerDashboard(
        organization=organization,
        slates=[
            EndorsedSlate(
                endorsement=endorsement,
                progress=slate_selectors.slate_progress(endorsement.slate),
                referred=slate_selectors.partner_slice(endorsement.slate_id, organization.pk),
            )
            for endorsement in endorsements
        ],
    )


def endorsable_slates(organization: PartnerOrganization):
    """Open slates this organization does not endorse yet."""
    return slate_selectors.open_slates().exclude(endorsements__organization=organization)
