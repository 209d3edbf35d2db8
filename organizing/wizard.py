"""Create a slate in short steps: mission and deadline, planks, candidates, threshold rule,
agreement, then a preview and publish. Each step saves to the draft through a service, so a
half-finished wizard is simply a draft the organizer can come back to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from candidates import agreements as candidate_agreements
from candidates import selectors as candidate_selectors
from slate import selectors as slate_selectors
from slate import services as slate_services
from slate.errors import DomainError
from slate.states import SlateState

from . import forms
from .permissions import organizer_slate

STEPS = (
    ("basics", "Mission and deadline"),
    ("planks", "Planks"),
    ("candidates", "Candidates"),
    ("rule", "Threshold rule"),
    ("agreement", "Agreement"),
    ("preview", "Preview and publish"),
)
# A new draft needs some rule; the organizer sets the real one at the rule step.
INITIAL_MIN_SIGNATURES = 1


def show_error(form, error: DomainError, field_names: dict[str, str] | None = None) -> None:
    """Put a service's refusal beside the field it names, or above the form."""
    field = (field_names or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, error.message)


def _render_step(request, step: str, context: dict, form=None):
    status = 400 if form is not None and form.errors else 200
    context = {"steps": STEPS, "step": step, "form": form, **context}
    return render(request, f"organizing/wizard/{step}.html", context, status=status)


def _draft(request, slug: str):
    """The organizer's slate, and a redirect when it is no longer a draft."""
    slate = organizer_slate(request, slug)
    if slate.state != SlateState.DRAFT:
        messages.info(request, f"{slate} is published; its mission, planks and rule are fixed.")
        return slate, redirect("organize:dashboard", slug=slate.slug)
    return slate, None


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    form = forms.BasicsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            slate = slate_services.create_slate(
                created_by=request.user,
                threshold_min_signatures=INITIAL_MIN_SIGNATURES,
                **form.cleaned_data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"Draft {slate} saved. Next: its planks.")
            return redirect("organize:planks", slug=slate.slug)
    return _render_step(request, "basics", {"slate": None}, form)


@login_required
@require_http_methods(["GET", "POST"])
def basics(request, slug: str):
    slate, leave = _draft(request, slug)
    if leave:
        return leave
    initial = {"name": slate.name, "mission": slate.mission, "deadline": slate.deadline}
    form = forms.BasicsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            slate_services.update_draft(slate=slate, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            show_error(form, error)
        else:
            return redirect("organize:planks", slug=slate.slug)
    return _render_step(request, "basics", {"slate": slate}, form)


@login_required
@require_http_methods(["GET", "POST"])
def planks(request, slug: str):
    slate, leave = _draft(request, slug)
    if leave:
        return leave
    initial = [{"title": p.title, "summary": p.summary} for p in slate.planks.all()]
    formset = forms.PlankFormSet(request.POST or None, initial=initial, prefix="planks")
    if request.method == "POST" and formset.is_valid():
        rows = [
            (row["title"], row.get("summary", ""))
            for row in formset.cleaned_data
            if row.get("title")
        ]
        if not rows:
            formset.forms[0].add_error("title", "Add at least one plank.")
        else:
            try:
                slate_services.set_planks(slate=slate, planks=rows, actor=request.user)
            except DomainError as error:
                formset.forms[0].add_error(None, error.message)
            else:
                return redirect("organize:candidates", slug=slate.slug)
    failed = request.method == "POST" and (formset.total_error_count() or formset.non_form_errors())
    context = {"steps": STEPS, "step": "planks", "slate": slate, "formset": formset}
    return render(request, "organizing/wizard/planks.html", context, status=400 if failed else 200)


@login_required
@require_http_methods(["GET", "POST"])
def rule(request, slug: str):
    slate, leave = _draft(request, slug)
    if leave:
        return leave
    initial = {
        "min_signatures": slate.threshold_min_signatures,
        "min_money_dollars": slate.threshold_min_money_cents // 100,
        "min_volunteer_hours": slate.threshold_min_volunteer_hours,
    }
    form = forms.RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            slate_services.update_threshold_rule(
                slate=slate,
                actor=request.user,
                min_signatures=data["min_signatures"],
                min_money_cents=(data["min_money_dollars"] or 0) * 100,
                min_volunteer_hours=data["min_volunteer_hours"] or 0,
            )
        except DomainError as error:
            show_error(
                form,
                error,
                {
                    "threshold_min_signatures": "min_signatures",
                    "threshold_min_money_cents": "min_money_dollars",
                    "threshold_min_volunteer_hours": "min_volunteer_hours",
                },
            )
        else:
            return redirect("organize:agreement", slug=slate.slug)
    return _render_step(
        request, "rule", {"slate": slate, "invited": slate.invited_candidate_count}, form
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement(request, slug: str):
    slate, leave = _draft(request, slug)
    if leave:
        return leave
    version = candidate_selectors.draft_agreement_version(
        slate
    ) or candidate_selectors.current_agreement_version(slate)
    initial = {"title": version.title, "text": version.text} if version else {}
    form = forms.AgreementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            candidate_agreements.save_agreement_draft(
                slate=slate, actor=request.user, **form.cleaned_data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            return redirect("organize:preview", slug=slate.slug)
    return _render_step(request, "agreement", {"slate": slate}, form)


def publish_checklist(slate) -> list[tuple[str, bool]]:
    """What open_slate will ask for, as a list the preview ticks off."""
    version = candidate_selectors.draft_agreement_version(
        slate
    ) or candidate_selectors.current_agreement_version(slate)
    return [
        ("At least one plank", slate.planks.exists()),
        (
            f"At least {slate.threshold_min_signatures} candidates invited "
            f"(the rule needs {slate.threshold_min_signatures} signatures)",
            slate.invited_candidate_count >= slate.threshold_min_signatures,
        ),
        ("The agreement's text", version is not None),
    ]


@login_required
@require_http_methods(["GET"])
def preview(request, slug: str):
    slate, leave = _draft(request, slug)
    if leave:
        return leave
    return _render_step(request, "preview", preview_context(slate))


def preview_context(slate, errors=()) -> dict:
    return {
        "slate": slate,
        "planks": slate.planks.all(),
        "standings": candidate_selectors.slate_candidate_standings(slate),
        "agreement": candidate_selectors.draft_agreement_version(slate)
        or candidate_selectors.current_agreement_version(slate),
        "checklist": publish_checklist(slate),
        "errors": errors,
        "refusal": slate_selectors.last_refusal(slate),
        "needs_review": slate.state == SlateState.DRAFT and slate_selectors.needs_review(slate),
    }


@login_required
@require_POST
def publish(request, slug: str):
    slate, leave = _draft(request, slug)
    if leave:
        return leave
    try:
        candidate_agreements.publish_slate(slate=slate, actor=request.user)
    except DomainError as error:
        slate.refresh_from_db()
        context = {"steps": STEPS, "step": "preview", **preview_context(slate, [error.message])}
        return render(request, "organizing/wizard/preview.html", context, status=400)
    slate.refresh_from_db()
    if slate.state == SlateState.REVIEW:
        messages.success(
            request,
            f"{slate} is with Slate's staff for review: a new organizer's first slate is checked "
            "before it goes public. You are emailed if they send it back.",
        )
        return redirect("organize:index")
    messages.success(request, f"{slate} is published: supporters can pledge now.")
    return redirect("organize:dashboard", slug=slate.slug)
