"""URL namespace ``organize``: every organizer page, under /organize/ (MFA applies here)."""

from django.urls import path

from . import (
    ask_views,
    candidate_views,
    organizer_views,
    plank_views,
    review_views,
    update_views,
    views,
    vote_views,
    wizard,
)

app_name = "organize"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", wizard.new, name="new"),
    # Staff's review queue: a new organizer's first slate waits here before it is public.
    path("review/", review_views.queue, name="review-queue"),
    path("review/<slug:slug>/", review_views.review, name="review"),
    path("review/<slug:slug>/approve/", review_views.approve, name="review-approve"),
    # Co-organizers: invite by email, withdraw, remove; the emailed link.
    path("join/<str:token>/", organizer_views.join, name="join"),
    path("slates/<slug:slug>/organizers/", organizer_views.organizers, name="organizers"),
    path(
        "slates/<slug:slug>/organizers/invitations/<int:invitation_id>/cancel/",
        organizer_views.cancel_invitation,
        name="organizer-invitation-cancel",
    ),
    path(
        "slates/<slug:slug>/organizers/<int:user_id>/remove/",
        organizer_views.remove,
        name="organizer-remove",
    ),
    path("slates/<slug:slug>/", views.dashboard, name="dashboard"),
    path("slates/<slug:slug>/live/", views.dashboard_live, name="live"),
    path("slates/<slug:slug>/export/pledges.csv", views.export_pledges, name="export-pledges"),
    path(
        "slates/<slug:slug>/export/volunteers.csv",
        views.export_volunteers,
        name="export-volunteers",
    ),
    path("slates/<slug:slug>/deadline/", views.extend_deadline, name="deadline"),
    path("slates/<slug:slug>/planks/", plank_views.revise_planks, name="revise-planks"),
    path("slates/<slug:slug>/asks/", ask_views.ask_list, name="asks"),
    path("slates/<slug:slug>/votes/", vote_views.vote_records, name="votes"),
    path("slates/<slug:slug>/updates/", update_views.composer, name="updates"),
    path("slates/<slug:slug>/asks/<int:ask_id>/hide/", ask_views.hide, name="ask-hide"),
    # The wizard's steps (drafts only, except candidates).
    path("slates/<slug:slug>/edit/", wizard.basics, name="basics"),
    path("slates/<slug:slug>/edit/planks/", wizard.planks, name="planks"),
    path("slates/<slug:slug>/edit/rule/", wizard.rule, name="rule"),
    path("slates/<slug:slug>/edit/agreement/", wizard.agreement, name="agreement"),
    path("slates/<slug:slug>/preview/", wizard.preview, name="preview"),
    path("slates/<slug:slug>/publish/", wizard.publish, name="publish"),
    # Candidates: invite, verify, revoke.
    path("slates/<slug:slug>/candidates/", candidate_views.candidates, name="candidates"),
    path(
        "slates/<slug:slug>/candidates/<int:candidate_id>/verify/",
        candidate_views.verify,
        name="candidate-verify",
    ),
    path(
        "slates/<slug:slug>/invitations/<int:invitation_id>/email/",
        candidate_views.email_link,
        name="invitation-email",
    ),
    path(
        "slates/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        candidate_views.revoke,
        name="invitation-revoke",
    ),
]
