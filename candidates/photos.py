"""A candidate's photo: the upload checked (size first, then that Pillow reads it as a JPEG,
PNG or WebP image of sensible dimensions) and re-encoded as a square JPEG without metadata,
so what we serve is always an image we drew, whatever was sent."""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from slate.errors import DomainError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse "decompression bombs" before decoding them
MIN_SIDE = 100
SIZE = 400  # the stored photo's side, in pixels
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


class PhotoError(DomainError):
    pass


@dataclass(frozen=True)
class Photo:
    jpeg: bytes
    sha256: str


def _refuse(code: str, message: str):
    raise PhotoError(code, message, field="photo")


def prepare(upload) -> Photo:
    """The stored form of an uploaded file, or a PhotoError saying what is wrong with it."""
    size = getattr(upload, "size", None)
    if size is None:
        _refuse("invalid_photo", "Choose an image file.")
    if size > MAX_UPLOAD_BYTES:
        _refuse(
            "photo_too_large", f"The photo is too large: at most {MAX_UPLOAD_BYTES // 2**20} MB."
        )
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in ACCEPTED_FORMATS:
                _refuse("photo_type", "Upload a JPEG, PNG or WebP image.")
            width, height = image.size
            if width * height > MAX_PIXELS:
                _refuse("photo_too_large", "The image has too many pixels; upload a smaller one.")
            if min(width, height) < MIN_SIDE:
                _refuse(
                    "photo_too_small",
                    f"The image is too small: at least {MIN_SIDE} × {MIN_SIDE} pixels.",
                )
            image.load()
            image = ImageOps.exif_transpose(image).convert("RGB")
            square = ImageOps.fit(image, (SIZE, SIZE), method=Image.Resampling.LANCZOS)
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        _refuse("photo_type", "That file is not an image we can read: upload a JPEG, PNG or WebP.")
    out = io.BytesIO()
    square.save(out, format="JPEG", quality=85, optimize=True)
    jpeg = out.getvalue()
    return Photo(jpeg=jpeg, sha256=hashlib.sha256(jpeg).hexdigest())
