"""Volunteer pages: pledge hours, the volunteer's home, matches, shifts; and, for the people
who run them, events, rosters, attendance and the slate's volunteer summary. Thin: every
decision is in the services and selectors."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from candidates.models import Candidate
from pledges import referrals
from pledges.selectors import pledges_of
from pledges.views import referring_organization, referring_partner_code
from slate.models import PartnerOrganization
from slate.selectors import is_organizer, public_slates
from slate.sharing import supporter_ref

from . import selectors, services, shifts
from .forms import (
    AttendanceForm,
    ChangeMatchForm,
    ConsentForm,
    EventForm,
    ShiftForm,
    VolunteerOfferForm,
)
from .hours import hours_for_candidate, hours_for_volunteer, slate_volunteer_summary
from .models import Shift, ShiftSignup, VolunteerEvent, VolunteerMatch, WorkMode


def _show_error(form, error) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def pledge(request, slug: str):
    slate = get_object_or_404(public_slates(), slug=slug)
    form = VolunteerOfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pledge_volunteer_hours(
                supporter=request.user, slate=slate, hours=data["hours"],
                activities=data["activities"], zip_code=data["zip_code"],
                mode=data["mode"] or WorkMode.EITHER,
                weekly_slots=data["weekly_slots"], languages=data["languages"],
                share_contact=data["share_contact"], display_name=data["display_name"],
                phone=data["phone"], availability=data["availability"],
                supporter_state=data["supporter_state"],
                referred_by=(referred_by := referring_organization(request, slate)),
                partner_code=referring_partner_code(request, referred_by),
                idempotency_key=data["idempotency_key"],
            )  # fmt: skip
        except services.VolunteerError as error:
            _show_error(form, error)
        else:
            referrals.attribute(
                slate=slate, supporter=request.user,
                code=supporter_ref(request.session, slate.slug),
            )  # fmt: skip
            messages.success(request, f"Thank you: {data['hours']} hours pledged to {slate}.")
            return redirect("pledges:thanks", slug=slate.slug)
    return render(
        request, "volunteers/pledge.html", {"slate": slate, "form": form},
        status=400 if form.errors else 200,
    )  # fmt: skip


@login_required
def home(request):
    user = request.user
    matches = list(selectors.matches_of(user))
    match_rows = [
        {
            "match": match,
            "form": ChangeMatchForm(
                campaigns=selectors.signed_candidates(match.slate),
                initial={
                    "candidate": match.candidate_id,
                    "mode": match.mode if match.mode != WorkMode.EITHER else WorkMode.REMOTE,
                },
            ),
            "hours": hours_for_volunteer(user, match.slate),
        }
        for match in matches
    ]
    context = {
        "waiting": selectors.waiting_pledges(user),
        "match_rows": match_rows,
        "upcoming": selectors.upcoming_signups(user),
        "hours": hours_for_volunteer(user),
        "runs_campaigns": bool(selectors.campaigns_run_by(user)),
    }
    return render(request, "volunteers/home.html", context)


@login_required
@require_POST
def change_match(request, pk: int):
    match = get_object_or_404(VolunteerMatch, pk=pk, pledge__supporter=request.user)
    form = ChangeMatchForm(request.POST, campaigns=selectors.signed_candidates(match.slate))
    if not form.is_valid():
        messages.error(request, "Choose one of the signed campaigns.")
        return redirect("volunteers:home")
    try:
        services.change_match(
            match=match,
            candidate=Candidate.objects.get(pk=form.cleaned_data["candidate"]),
            mode=form.cleaned_data["mode"],
            actor=request.user,
        )
    except services.VolunteerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your match is changed.")
    return redirect("volunteers:home")


@login_required
@require_POST
def consent(request, pk: int):
    pledge_ = pledges_of(request.user).filter(pk=pk).first()
    if pledge_ is None:
        raise Http404("No such pledge")
    form = ConsentForm(request.POST)
    form.is_valid()
    services.set_contact_consent(
        pledge=pledge_,
        actor=request.user,
        share_contact=form.cleaned_data.get("share_contact", False),
    )
    messages.success(request, "Your contact preference is saved.")
    return redirect("volunteers:home")


@login_required
def shift_list(request, slug: str):
    slate = get_object_or_404(public_slates(), slug=slug)
    mode = request.GET.get("mode", "near")
    if mode not in ("near", WorkMode.REMOTE):
        mode = "near"
    context = {
        "slate": slate,
        "mode": mode,
        "listings": selectors.shifts_for_volunteer(request.user, slate, mode=mode),
        "pledge": selectors.volunteer_pledge_for(request.user, slate),
        "locked": selectors.is_locked(slate),
    }
    return render(request, "volunteers/shifts.html", context)


@login_required
@require_POST
def sign_up(request, pk: int):
    shift = get_object_or_404(Shift.objects.select_related("event__slate"), pk=pk)
    try:
        signup = shifts.sign_up(shift=shift, volunteer=request.user)
    except services.VolunteerError as error:
        messages.error(request, error.message)
    else:
        if signup.status == "confirmed":
            messages.success(
                request, "You are signed up. We will remind you a day and an hour before."
            )
        else:
            messages.success(
                request,
                "The shift is full: you are on the waitlist and will be emailed if a place opens.",
            )
    return redirect("volunteers:shifts", slug=shift.event.slate.slug)


@login_required
@require_POST
def cancel_signup(request, pk: int):
    signup = get_object_or_404(ShiftSignup, pk=pk, volunteer=request.user)
    try:
        shifts.cancel_signup(signup=signup, actor=request.user)
    except services.VolunteerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your sign-up is cancelled.")
    return redirect("volunteers:home")


# --- Campaigns --------------------------------------------------------------------------------


@login_required
def campaign(request):
    candidates = selectors.campaigns_run_by(request.user)
    if not candidates:
        raise PermissionDenied("This account runs no campaign.")
    rows = []
    for candidate in candidates:
        for slate in public_slates().filter(invitations__candidate=candidate).distinct():
            locked = selectors.is_locked(slate)
            rows.append(
                {
                    "candidate": candidate,
                    "slate": slate,
                    "locked": locked,
                    "near": selectors.pledged_hours_near(candidate, slate),
                    "volunteers": selectors.matched_volunteers(candidate, slate, request.user),
                    "hours": hours_for_candidate(candidate, slate) if locked else None,
                }
            )
    return render(request, "volunteers/campaign.html", {"rows": rows})


# --- Events, shifts and attendance ------------------------------------------------------------


def _hosts_or_403(user, slate):
    hosts = selectors.event_hosts_for(user, slate)
    if not (hosts["slate_wide"] or hosts["candidates"] or hosts["organizations"]):
        raise PermissionDenied("You may not run events on this slate.")
    return hosts


@login_required
@require_http_methods(["GET", "POST"])
def events(request, slug: str):
    slate = get_object_or_404(public_slates(), slug=slug)
    hosts = _hosts_or_403(request.user, slate)
    form = EventForm(request.POST or None, hosts=hosts)
    if request.method == "POST" and form.is_valid():
        host = form.cleaned_data["host"]
        candidate = organization = None
        if host.startswith("candidate:"):
            candidate = Candidate.objects.get(pk=int(host.split(":")[1]))
        elif host.startswith("org:"):
            organization = PartnerOrganization.objects.get(pk=int(host.split(":")[1]))
        try:
            event = shifts.create_event(
                slate=slate, actor=request.user, title=form.cleaned_data["title"],
                description=form.cleaned_data["description"], candidate=candidate,
                organization=organization,
            )  # fmt: skip
        except services.VolunteerError as error:
            _show_error(form, error)
        else:
            messages.success(request, "Event created: now add its shifts.")
            return redirect("volunteer_hosts:event", pk=event.pk)
    visible = [e for e in selectors.events_of(slate) if shifts.can_manage(request.user, e)]
    return render(
        request, "volunteers/events.html",
        {"slate": slate, "form": form, "events": visible, "locked": selectors.is_locked(slate)},
        status=400 if form.errors else 200,
    )  # fmt: skip


def _managed_event(request, pk: int) -> VolunteerEvent:
    event = get_object_or_404(
        VolunteerEvent.objects.select_related("slate", "candidate", "organization"), pk=pk
    )
    if not shifts.can_manage(request.user, event):
        raise PermissionDenied("Only the event's hosts and the organizers may see this.")
    return event


@login_required
@require_http_methods(["GET", "POST"])
def event(request, pk: int):
    event_ = _managed_event(request, pk)
    form = ShiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            shifts.add_shift(
                event=event_, actor=request.user, starts_at=data["starts_at"],
                ends_at=data["ends_at"], activity=data["activity"], mode=data["mode"],
                capacity=data["capacity"], location=data["location"], zip_code=data["zip_code"],
                call_link=data["call_link"], notes=data["notes"], time_zone=data["time_zone"],
            )  # fmt: skip
        except services.VolunteerError as error:
            _show_error(form, error)
        else:
            messages.success(request, "Shift added.")
            return redirect("volunteer_hosts:event", pk=event_.pk)
    shift_rows = [
        {"shift": s, "roster": selectors.roster(s, request.user)}
        for s in event_.shifts.order_by("starts_at", "id")
    ]
    return render(
        request, "volunteers/event.html",
        {"event": event_, "form": form, "shift_rows": shift_rows,
         "attendance_form": AttendanceForm()},
        status=400 if form.errors else 200,
    )  # fmt: skip


@login_required
@require_POST
def attendance(request, pk: int):
    signup = get_object_or_404(ShiftSignup.objects.select_related("shift__event"), pk=pk)
    event_ = _managed_event(request, signup.shift.event_id)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose attended or absent, and hours as a number.")
        return redirect("volunteer_hosts:event", pk=event_.pk)
    hours = form.cleaned_data["delivered_hours"]
    minutes = None if hours is None else int((hours * 60).to_integral_value())
    try:
        shifts.record_attendance(
            signup=signup, actor=request.user, attended=form.cleaned_data["attended"],
            delivered_minutes=minutes,
        )  # fmt: skip
    except services.VolunteerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Attendance saved.")
    return redirect("volunteer_hosts:event", pk=event_.pk)


# --- The organizers' summary ------------------------------------------------------------------


def _organized_slate(request, slug: str):
    slate = get_object_or_404(public_slates(), slug=slug)
    if not is_organizer(request.user, slate):
        raise PermissionDenied("Only this slate's organizers may see its volunteer summary.")
    return slate


@login_required
def summary(request, slug: str):
    slate = _organized_slate(request, slug)
    return render(
        request, "volunteers/summary.html",
        {"slate": slate, "summary": slate_volunteer_summary(slate)},
    )  # fmt: skip


@login_required
def summary_csv(request, slug: str):
    slate = _organized_slate(request, slug)
    data = slate_volunteer_summary(slate)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{slate.slug}-volunteer-hours.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["level", "id", "name", "volunteers", "hours_pledged", "hours_scheduled", "hours_delivered"]
    )
    rows = [("slate", slate.pk, slate.name, data.total)]
    rows += [("candidate", r.key, r.label, r.hours) for r in data.candidates]
    rows += [("partner", r.key, r.label, r.hours) for r in data.partners]
    for level, key, name, hours in rows:
        writer.writerow(
            [
                level, key, _csv_safe(name), hours.volunteers, hours.pledged_hours,
                f"{hours.scheduled_minutes / 60:.2f}", f"{hours.delivered_minutes / 60:.2f}",
            ]
        )  # fmt: skip
    return response


def _csv_safe(value: str) -> str:
    """Names are typed by people: keep a spreadsheet from reading one as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
