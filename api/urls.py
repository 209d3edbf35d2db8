from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from . import errors, pages
from .views import accounts, candidates, partners, pledges, slates, webhooks


class IdConverter:
    """Database ids: at most 18 digits, so no lookup overflows a bigint (a 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

v1 = [
    path("me", accounts.Me.as_view(), name="me"),
    path("tokens", accounts.TokenListCreate.as_view(), name="tokens"),
    path("tokens/<id:pk>", accounts.TokenRevoke.as_view(), name="token"),
    path("slates", slates.SlateList.as_view(), name="slates"),
    path("slates/<slug:slug>", slates.SlateDetail.as_view(), name="slate"),
    path("slates/<slug:slug>/totals", slates.SlateTotals.as_view(), name="slate-totals"),
    path("slates/<slug:slug>/growth", slates.SlateGrowth.as_view(), name="slate-growth"),
    path(
        "slates/<slug:slug>/volunteer-hours",
        slates.SlateVolunteerHours.as_view(),
        name="slate-volunteer-hours",
    ),
    path("slates/<slug:slug>/planks", slates.SlatePlanks.as_view(), name="slate-planks"),
    path(
        "slates/<slug:slug>/candidates",
        slates.SlateCandidates.as_view(),
        name="slate-candidates",
    ),
    path(
        "slates/<slug:slug>/agreement/versions",
        slates.AgreementVersions.as_view(),
        name="agreement-versions",
    ),
    path(
        "slates/<slug:slug>/agreement/versions/<id:number>",
        slates.AgreementVersionDetail.as_view(),
        name="agreement-version",
    ),
    path(
        "slates/<slug:slug>/endorsements",
        slates.SlateEndorsements.as_view(),
        name="slate-endorsements",
    ),
    path("slates/<slug:slug>/pledges", slates.SlatePledges.as_view(), name="slate-pledges"),
    path("slates/<slug:slug>/signature", candidates.MySignature.as_view(), name="signature"),
    path(
        "slates/<slug:slug>/signature/withdraw",
        candidates.WithdrawSignature.as_view(),
        name="signature-withdraw",
    ),
    path("candidates", candidates.CandidateList.as_view(), name="candidates"),
    path("candidates/<id:pk>", candidates.CandidateDetail.as_view(), name="candidate"),
    path("pledges", pledges.PledgeListCreate.as_view(), name="pledges"),
    path("pledges/<id:pk>", pledges.PledgeDetail.as_view(), name="pledge"),
    path("pledges/<id:pk>/cancel", pledges.PledgeCancel.as_view(), name="pledge-cancel"),
    path("partners", partners.PartnerList.as_view(), name="partners"),
    path("partners/<slug:slug>", partners.PartnerDetail.as_view(), name="partner"),
    path(
        "partners/<slug:slug>/referrals",
        partners.PartnerReferrals.as_view(),
        name="partner-referrals",
    ),
    path(
        "partners/<slug:slug>/endorsements",
        partners.PartnerEndorsements.as_view(),
        name="partner-endorsements",
    ),
    path(
        "partners/<slug:slug>/webhooks",
        webhooks.WebhookEndpoints.as_view(),
        name="partner-webhooks",
    ),
    path(
        "partners/<slug:slug>/webhooks/<id:pk>",
        webhooks.WebhookEndpointDetail.as_view(),
        name="partner-webhook",
    ),
    path(
        "partners/<slug:slug>/webhooks/<id:pk>/deliveries",
        webhooks.WebhookDeliveries.as_view(),
        name="partner-webhook-deliveries",
    ),
    path(
        "partners/<slug:slug>/endorsements/<slug:slate_slug>",
        partners.PartnerEndorsementDetail.as_view(),
        name="partner-endorsement",
    ),
]

app_name = "api"
urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Redoc styles itself with injected <style> elements and renders in a blob: worker: the
    # one page whose policy allows inline styles (templates/drf_spectacular/redoc.html).
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    path("tokens/", pages.tokens, name="tokens-page"),
    path("tokens/<id:pk>/revoke/", pages.revoke_token, name="revoke-token-page"),
    path("partners/<slug:slug>/webhooks/", pages.partner_webhooks, name="webhooks-page"),
    re_path(r"^[\s\S]*$", errors.not_found),  # any path, newlines included
]
