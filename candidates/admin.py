from django.contrib import admin

from slate.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    AgreementVersion,
    Ask,
    AskRequest,
    Candidate,
    CandidateNotice,
    CandidatePhoto,
    CoordinationAgreement,
    Invitation,
    PlankCommitment,
    Signature,
    SignerContact,
    SignerVote,
    VoteRecord,
)


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["full_name", "office", "state", "district", "party", "verified_at"]
    list_filter = ["office", "state", "party"]
    search_fields = ["full_name", "fec_candidate_id", "fec_committee_id"]
    readonly_fields = ["verified_at", "verified_by", "created_at"]
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Organizers invite, revoke and mark candidates required through their pages and the
    API (candidates.invitations), which check the slate's state and recount its figures; a
    row written here would skip both."""

    list_display = ["candidate", "slate", "status", "is_required", "created_at"]
    list_filter = ["status", "is_required"]
    list_select_related = ["candidate", "slate"]
    readonly_fields = ["status", "responded_at", "created_at"]


class VersionInline(ReadOnlyInline):
    model = AgreementVersion
    readonly_fields = ["number", "title", "content_hash", "published_at", "created_at"]
    fields = readonly_fields


@admin.register(CoordinationAgreement)
class CoordinationAgreementAdmin(admin.ModelAdmin):
    list_display = ["title", "slate"]
    inlines = [VersionInline]


@admin.register(AgreementVersion)
class AgreementVersionAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "number", "content_hash", "published_at"]
    readonly_fields = [
        "agreement", "number", "title", "text", "planks", "content_hash", "published_at",
    ]  # fmt: skip


class CommitmentInline(ReadOnlyInline):
    model = PlankCommitment
    readonly_fields = ["position", "choice", "reservation"]
    fields = readonly_fields


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    inlines = [CommitmentInline]
    list_display = ["candidate", "slate", "agreement_version", "signed_at", "withdrawn_at"]
    list_filter = ["slate"]
    list_select_related = ["candidate", "slate", "agreement_version"]
    readonly_fields = [f.name for f in Signature._meta.fields]


@admin.register(PlankCommitment)
class PlankCommitmentAdmin(ReadOnlyAdmin):
    list_display = ["signature", "position", "choice"]
    list_filter = ["choice"]
    list_select_related = ["signature__candidate"]
    readonly_fields = ["signature", "position", "choice", "reservation"]


@admin.register(Ask)
class AskAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "slate", "supporter", "created_at", "hidden_at"]
    list_filter = ["slate"]
    list_select_related = ["candidate", "slate", "supporter"]
    readonly_fields = [f.name for f in Ask._meta.fields]


@admin.register(CandidateNotice)
class CandidateNoticeAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "slate", "kind", "period", "created_at", "settled_at", "sent"]
    list_filter = ["kind", "sent"]
    list_select_related = ["candidate", "slate"]
    readonly_fields = [f.name for f in CandidateNotice._meta.fields]


class SignerVoteInline(ReadOnlyInline):
    model = SignerVote
    fields = ("candidate", "vote")


# The vote record is the organizers' public statement (written on their page, emailed to
# supporters): staff read it here; a correction is a new record, not an edit.
@admin.register(VoteRecord)
class VoteRecordAdmin(ReadOnlyAdmin):
    list_display = ("slate", "plank_title", "description", "voted_on", "bloc_vote", "created_at")
    list_filter = ("bloc_vote",)
    search_fields = ("slate__name", "plank_title", "description")
    inlines = [SignerVoteInline]


@admin.register(SignerVote)
class SignerVoteAdmin(ReadOnlyAdmin):
    list_display = ("record", "candidate", "vote")
    list_filter = ("vote",)


# Shared only with the other signers and their staff: staff see it to help, never edit it.
@admin.register(SignerContact)
class SignerContactAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "updated_at")
    search_fields = ("candidate__full_name",)


@admin.register(AskRequest)
class AskRequestAdmin(ReadOnlyAdmin):
    list_display = ("slate", "candidate", "email", "created_at", "confirmed_at")
    list_filter = ("confirmed_at",)
    search_fields = ("email", "name")


@admin.register(CandidatePhoto)
class CandidatePhotoAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "updated_at")
    # The picture itself is served on the candidate's page; its bytes mean nothing here.
    exclude = ("jpeg",)
