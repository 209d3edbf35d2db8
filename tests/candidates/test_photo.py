"""The candidate's photo: uploaded by the candidate only, checked (size, type, dimensions),
re-encoded as a square JPEG without metadata, served with an ETag; initials without one."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from candidates import photos, services
from candidates.models import CandidatePhoto
from candidates.services import CandidateError
from tests.factories import make_open_slate, organizer_of, slate_candidates

pytestmark = pytest.mark.django_db


def image_file(fmt="PNG", size=(640, 480), name=None, exif=None) -> SimpleUploadedFile:
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **kwargs)
    return SimpleUploadedFile(name or f"me.{fmt.lower()}", out.getvalue())


@pytest.fixture
def candidate():
    slate = make_open_slate(candidates=1, min_signatures=1)
    return slate_candidates(slate)[0]


def edit(candidate, **data):
    client = Client()
    client.force_login(candidate.user)
    form = {"statement": "I will sign.", "website": "", **data}
    return client.post(reverse("candidates:edit-profile"), form)


def test_an_uploaded_photo_is_re_encoded_and_shown(candidate):
    public = Client().get(candidate.get_absolute_url()).content.decode()
    assert 'data-testid="initials"' in public and 'data-testid="photo"' not in public
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    assert edit(candidate, photo=image_file("JPEG", exif=exif)).status_code == 302
    url = reverse("candidates:photo", args=[candidate.pk])
    served = Client().get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert (image.format, image.size) == ("JPEG", (photos.SIZE, photos.SIZE))
    assert b"secret description" not in served.content and not image.getexif()
    assert Client().get(url, HTTP_IF_NONE_MATCH=served["ETag"]).status_code == 304
    public = Client().get(candidate.get_absolute_url()).content.decode()
    assert f'src="{url}?v=' in public and 'data-testid="initials"' not in public

    assert edit(candidate, remove_photo="on").status_code == 302
    assert not CandidatePhoto.objects.exists()
    assert Client().get(url).status_code == 404


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("me.png", b"not an image at all"), "not an image we can read"),
        (image_file("GIF"), "Upload a JPEG, PNG or WebP image."),
        (image_file("PNG", size=(60, 60)), "too small"),
        (SimpleUploadedFile("big.jpg", b"\xff" * (photos.MAX_UPLOAD_BYTES + 1)), "too large"),
    ],
)
def test_a_bad_upload_is_explained_and_changes_nothing(candidate, upload, message):
    response = edit(candidate, photo=upload, statement="A new statement")
    assert response.status_code == 400
    assert message in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.statement == "" and not CandidatePhoto.objects.exists()


def test_too_many_pixels_are_refused_before_decoding(candidate, monkeypatch):
    monkeypatch.setattr(photos, "MAX_PIXELS", 640 * 480 - 1)
    with pytest.raises(photos.PhotoError, match="too many pixels"):
        photos.prepare(image_file("PNG"))


def test_only_the_candidate_sets_their_photo(candidate):
    with pytest.raises(CandidateError, match="only their own"):
        services.update_public_profile(
            candidate=candidate, actor=organizer_of(candidate.invitations.get().slate),
            statement="", photo=image_file(),
        )  # fmt: skip
    assert not CandidatePhoto.objects.exists()
