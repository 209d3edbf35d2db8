"""What a partner organization's admins see: aggregates only, never a person's details."""

from dataclasses import dataclass

from pledges.models import Pledge
from pledges.states import LIVE_MONEY_STATES, LIVE_NON_MONEY_STATES
from slate import selectors as slate_selectors
from slate.models import Endorsement, PartnerCode, PartnerOrganization
from slate.selectors import SlateProgress
from slate.totals import BreakdownCounts

from .exports import usd


@dataclass(frozen=True)
class EndorsedSlate:
    endorsement: Endorsement
    progress: SlateProgress
    referred: BreakdownCounts  # live pledges that came through this organization's links
    # Each of the organization's sub-codes with what its links brought to this slate.
    codes: list[tuple[PartnerCode, BreakdownCounts]]


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
                codes=slate_selectors.partner_code_slices(endorsement.slate_id, organization),
            )
            for endorsement in endorsements
        ],
    )


def endorsable_slates(organization: PartnerOrganization):
    """Open slates this organization does not endorse yet."""
    return slate_selectors.open_slates().exclude(endorsements__organization=organization)


PLEDGED_COLUMNS = ("name", "email", "slate", "kinds", "first_pledged_at")


def pledged_members(organization: PartnerOrganization):
    """The people this organization's links brought who pledged (a live pledge) and agreed to
    let it know (``PartnerShare``): one row per person and slate, so the organization stops
    asking them. Nobody who did not agree appears."""
    pledges = (
        Pledge.objects.filter(
            referred_by=organization,
            state__in=sorted(LIVE_MONEY_STATES | LIVE_NON_MONEY_STATES),
            supporter__partner_shares__organization=organization,
        )
        .select_related("supporter", "slate")
        .order_by("supporter_id", "slate_id", "created_at")
    )
    rows: dict[tuple[int, int], list] = {}
    for pledge in pledges.iterator(chunk_size=2_000):
        key = (pledge.supporter_id, pledge.slate_id)
        if key not in rows:
            person = pledge.supporter
            rows[key] = [
                person.get_full_name(), person.email, pledge.slate.name, [],
                pledge.created_at.isoformat(timespec="seconds"),
            ]  # fmt: skip
        if pledge.get_kind_display() not in rows[key][3]:
            rows[key][3].append(pledge.get_kind_display())
    for row in rows.values():
        yield (*row[:3], "; ".join(row[3]), row[4])


FIGURE_COLUMNS = (
    "slate", "slate_name", "code", "code_label", "code_kind", "pledges", "money_usd",
    "volunteer_hours",
)  # fmt: skip


def figure_rows(board: PartnerDashboard):
    """The dashboard's figures as CSV rows: per endorsed slate, all the organization's links
    (code "*") and then each sub-code. Aggregates only, like the dashboard."""
    for row in board.slates:
        slate = row.endorsement.slate
        yield (
            slate.slug, slate.name, "*", "All your links", "", row.referred.pledge_count,
            usd(row.referred.money_cents), row.referred.volunteer_hours,
        )  # fmt: skip
        for code, counts in row.codes:
            yield (
                slate.slug, slate.name, code.code, code.label, code.kind, counts.pledge_count,
                usd(counts.money_cents), counts.volunteer_hours,
            )  # fmt: skip
