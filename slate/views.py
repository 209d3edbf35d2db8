"""Public pages of the Slate aggregate. Thin: they call selectors and render."""

from csp.decorators import csp_replace
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.core.validators import slug_re
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from . import selectors
from .forms import DirectoryFilterForm
from .models import Slate
from .page_cache import SiteAddress, public_page_cache, shared_parts
from .page_sections import slate_page_sections
from .share_image import share_figures, share_picture
from .sharing import remember_supporter_ref


@require_GET
def home(request):
    slates = list(selectors.open_slates().prefetch_related("planks"))
    progress = [selectors.slate_progress(slate) for slate in slates]
    wins = [selectors.slate_progress(slate) for slate in selectors.recent_wins()]
    return render(request, "slate/home.html", {"progress_list": progress, "wins": wins})


DIRECTORY_PAGE_SIZE = 20


@require_GET
def directory(request):
    """Every public slate, open first and then the wins; filtered by status, state, office."""
    form = DirectoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    slates = selectors.slate_directory(
        status=filters.get("status", ""),
        state=filters.get("state", ""),
        office=filters.get("office", ""),
    )
    page = Paginator(slates, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "progress_list": [selectors.slate_progress(slate) for slate in page],
    }
    return render(request, "slate/directory.html", context, status=400 if form.errors else 200)


def _visible_slate(request, slug: str) -> Slate:
    slate = get_object_or_404(Slate, slug=slug)
    # A public slate is visible to everyone: ask the database only about a draft.
    if (
        not selectors.is_public(slate)
        and not selectors.slates_visible_to(request.user).filter(pk=slate.pk).exists()
    ):
        raise Http404("No such slate")
    return slate


@require_GET
@public_page_cache(bypass=("ref",))
def slate_detail(request, slug: str):
    slate = _visible_slate(request, slug)
    # A supporter's share link: remembered for this slate; credited when the visitor pledges.
    remember_supporter_ref(request.session, slate.slug, request.GET.get("ref"))
    public = shared_parts(
        request, "slate-detail", slate.slug, lambda: _public_parts(request, slate),
        # A draft is seen only by its organizers: never kept where others could be served it.
        keep=selectors.is_public(slate),
    )  # fmt: skip
    return render(request, "slate/detail.html", {"slate": slate, "public": public})


def _public_parts(request, slate: Slate) -> dict[str, str]:
    """The slate page's parts that are the same for every visitor, rendered without the
    visitor (see slate.page_cache.shared_parts)."""
    context = {
        "request": SiteAddress(request),
        "slate": slate,
        "progress": selectors.slate_progress(slate),
        "planks": slate.planks.all(),
        "endorsements": selectors.public_endorsements(slate.pk)
        .select_related("organization")
        .order_by("endorsed_at", "pk"),
        "states": selectors.slate_breakdown(slate.pk, "state")[:10],
        "chart_data": selectors.growth_chart_data(selectors.daily_growth(slate.pk)),
        # The page's address without any ?ref=: shared, and the link previews' og:url.
        "share_url": request.build_absolute_uri(reverse("slate:detail", args=[slate.slug])),
    }
    context.update(slate_page_sections(slate))
    return {
        part: render_to_string(f"slate/_detail_{part}.html", context)
        for part in ("meta", "top", "rest")
    }


@require_GET
@public_page_cache()
def slate_progress_fragment(request, slug: str):
    """Polled by HTMX every few seconds; reads only the maintained totals."""
    slate = _visible_slate(request, slug)
    return render(request, "slate/_progress.html", {"progress": selectors.slate_progress(slate)})


# Link previews are fetched by other sites' crawlers and by chat apps: short enough that a
# new total shows within minutes; the page's og:image URL also carries the figures' version.
SHARE_IMAGE_MAX_AGE = 300


@require_GET
def share_image(request, slug: str):
    """The slate's link-preview picture (og:image). Public slates only: a draft is nobody's
    to share yet."""
    slate = get_object_or_404(selectors.public_slates(), slug=slug)
    picture = share_picture(share_figures(selectors.slate_progress(slate)))
    response = HttpResponse(picture.png, content_type="image/png")
    response["ETag"] = picture.etag
    response["Cache-Control"] = f"public, max-age={SHARE_IMAGE_MAX_AGE}"
    return get_conditional_response(request, etag=picture.etag, response=response)


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


REFERRAL_SESSION_KEY = "referred_by"
# The organization's sub-code (chapter, mailing, event) from the same link; "" for none.
REFERRAL_CODE_SESSION_KEY = "referred_by_code"


@require_GET
def referral(request, organization_slug: str, slug: str, code: str = ""):
    """A partner organization's link: remember who sent the supporter (and through which of
    its sub-codes), then show the organization's page for the slate. Only a verified endorsing
    organization's link counts; any other still shows the slate. A sub-code that is not the
    organization's is ignored: the link still credits the organization."""
    slate = _visible_slate(request, slug)
    organization = (
        selectors.endorsing_organizations(slate.pk).filter(slug=organization_slug).first()
    )
    if organization is None:
        return redirect(slate.get_absolute_url())
    request.session[REFERRAL_SESSION_KEY] = organization.slug
    known = bool(code) and organization.codes.filter(code=code).exists()
    request.session[REFERRAL_CODE_SESSION_KEY] = code if known else ""
    return redirect("orgs:slate", organization_slug=organization.slug, slug=slate.slug)


# Meant to be embedded in partners' own pages, whatever their address: the one page any site
# may frame (every other page sends X-Frame-Options: DENY and frame-ancestors 'none').
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@require_GET
@public_page_cache(params=("org",))
def widget(request, slug: str):
    """The embeddable progress card partner organizations put on their sites."""
    slate = get_object_or_404(selectors.public_slates(), slug=slug)
    organization_slug = request.GET.get("org", "")
    if organization_slug and not slug_re.fullmatch(organization_slug):
        # A typo in the partner's embed code: say so in the frame rather than fail.
        error = "This widget's org= value is not an organization's short name."
        return render(request, "slate/widget.html", {"error": error}, status=400)
    link = request.build_absolute_uri(
        reverse("slate:referral", args=[organization_slug, slug])
        if organization_slug
        else slate.get_absolute_url()
    )
    context = {"progress": selectors.slate_progress(slate), "link": link}
    return render(request, "slate/widget.html", context)


# --- Error pages (wired in slate.urls and settings.CSRF_FAILURE_VIEW) ----------------------------


def bad_request(request, exception):
    """400 in the site's layout. The message is shown only for ``BadRequest``, which our views
    raise with words meant for people; Django's own (SuspiciousOperation) say nothing useful
    to a visitor and may describe the server."""
    message = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"message": message}, status=400)


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check: say what to do, in the site's layout."""
    return render(request, "403_csrf.html", status=403)
