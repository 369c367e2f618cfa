"""Ingest of image originals: validation, content-addressed storage and display decoding.

Owns the rules for which files are accepted and how an original becomes display-ready RGB(A).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO

from PIL import (
    ExifTags,
    Image,
    ImageCms,
    ImageFile,
    ImageOps,
    ImageSequence,
    UnidentifiedImageError,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# Pillow's own bomb limit (Image.MAX_IMAGE_PIXELS, about 89.5 million by default) also
# applies, so with default settings that smaller figure is the effective per-frame limit.
DEFAULT_MAX_PIXELS = 200_000_000

# Pillow format name -> (file extension, MIME type).
_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "TIFF": ("tif", "image/tiff"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
# Pillow's JPEG plugin reports camera JPEGs carrying extra preview pictures as MPO; the
# file is still a JPEG and is stored and served as one.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_OPENABLE_FORMATS = list(_FORMATS)
ACCEPTED_FORMATS_TEXT = "JPEG, PNG, TIFF, WebP or GIF"

# Signatures of accepted formats, so that a damaged file of a known kind is reported as
# damaged instead of as "not an image".
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)

_SHA256_RE = re.compile(r"[0-9a-f]{64}")

# Swapping warning filters and LOAD_TRUNCATED_IMAGES touches process-wide state, so our
# own validations take turns; ingest is an editorial action, not a hot path.
_VALIDATION_LOCK = threading.Lock()

# Modes open_for_display knows how to turn into RGB or RGBA; anything else a decoder
# produces is refused at ingest rather than failing later on every page view.
_DISPLAYABLE_MODES = frozenset(
    {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F"}
    | {"I;16", "I;16B", "I;16L", "I;16N"}
)

# EXIF orientations that turn the picture by a quarter, swapping width and height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


class ImageRejected(Exception):
    """A file refused at ingest.

    str(exc) is a clear, user-facing English message naming the reason.
    """

    def __init__(self, reason: str, filename: str = "") -> None:
        """Record why the file was refused and which file it was."""
        # Both values go to Exception so that the exception survives pickling intact.
        super().__init__(reason, filename)
        self.reason = reason
        self.filename = filename

    def __str__(self) -> str:
        """Return the message shown to the person who supplied the file."""
        return f"{self.filename}: {self.reason}" if self.filename else self.reason


@dataclass(frozen=True)
class StoredOriginal:
    """An accepted original as stored on disk, with its display dimensions."""

    sha256: str
    format: str
    mime_type: str
    width: int
    height: int
    byte_size: int
    path: Path


def ingest_image(
    data: bytes,
    originals_dir: Path,
    *,
    filename: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> StoredOriginal:
    """Validate an uploaded/imported image and store the untouched original under its SHA-256."""
    if not data:
        raise ImageRejected("empty file", filename)
    if len(data) > max_bytes:
        raise ImageRejected(
            f"file too large ({len(data)} bytes; the limit is {max_bytes} bytes)", filename
        )
    image_format, width, height = _validate(data, filename, max_pixels)
    sha256 = hashlib.sha256(data).hexdigest()
    path = original_path(originals_dir, sha256, image_format)
    if not _holds(path, sha256):
        write_atomically(path, lambda out: out.write(data))
    return StoredOriginal(
        sha256=sha256,
        format=image_format,
        mime_type=_FORMATS[image_format][1],
        width=width,
        height=height,
        byte_size=len(data),
        path=path,
    )


def original_path(originals_dir: Path, sha256: str, format: str) -> Path:
    """Return where the original with this hash is stored (originals_dir/ab/cd/<sha256>.<ext>)."""
    if not _SHA256_RE.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    name = _FORMAT_ALIASES.get(format.upper(), format.upper())
    if name not in _FORMATS:
        raise ValueError(f"no storage extension for image format {format!r}")
    extension = _FORMATS[name][0]
    return originals_dir / sha256[:2] / sha256[2:4] / f"{sha256}.{extension}"


def open_for_display(path: Path, *, needed_edge: int | None = None) -> Image.Image:
    """Open an original and return a display-ready RGB or RGBA image.

    EXIF orientation is applied, an embedded ICC profile converted to sRGB, and CMYK,
    16-bit, palette, LA and bilevel pictures converted; multi-frame files give their first
    frame. The returned image carries no metadata (its info is empty).

    With needed_edge, a JPEG may be decoded at a reduced scale whose longest edge is still
    at least needed_edge pixels, which is much faster when only a smaller rendition is needed.
    """
    source = Image.open(path, formats=_OPENABLE_FORMATS)
    try:
        if needed_edge is not None and source.format in ("JPEG", "MPO"):
            _draft_for_edge(source, needed_edge)
        # Multi-frame originals (TIFF pages, GIF frames) are shown by their first frame,
        # which is where Image.open leaves them.
        ImageOps.exif_transpose(source, in_place=True)
        display = _to_display_modes(source)
        if display is source:
            # Closing the source below destroys its pixels, so hand out a copy.
            display = source.copy()
    finally:
        source.close()
    # Drop EXIF (GPS included), XMP, comments and the now-stale ICC profile so that nothing
    # from the original leaks into derivatives or tiles saved from this image.
    display.info.clear()
    return display


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a file via a temporary sibling and os.replace so no reader sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600 files; originals and derivatives may be served by a separate
        # web server process, so make them world-readable like ordinary files.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _holds(path: Path, sha256: str) -> bool:
    """Tell whether path already holds exactly the bytes with this digest."""
    try:
        with path.open("rb") as existing:
            return hashlib.file_digest(existing, "sha256").hexdigest() == sha256
    except FileNotFoundError:
        return False


def _validate(data: bytes, filename: str, max_pixels: int) -> tuple[str, int, int]:
    """Decode every frame of data and return its format and display width and height."""
    with _VALIDATION_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Pillow signals a likely bomb with a mere warning below twice its limit; make it
        # an exception so decoding stops before any memory is spent.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # A truncated original must never be archived, whoever flipped this global.
        load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            return _decode_all_frames(data, filename, max_pixels)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(
                "refused as a possible decompression bomb (it declares far more pixels "
                "than allowed)",
                filename,
            ) from exc
        except Exception as exc:
            # Pillow reports damaged input with many exception types (OSError, SyntaxError,
            # struct.error, ValueError, ...); all of them mean the same thing to the uploader.
            if "truncated" in str(exc).lower():
                raise ImageRejected(
                    "truncated image (the file ends before the picture is complete)", filename
                ) from exc
            raise ImageRejected(f"damaged image ({_describe(exc)})", filename) from exc
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated
            for warning in caught:
                logger.warning("while validating %s: %s", filename or "an image", warning.message)


def _decode_all_frames(data: bytes, filename: str, max_pixels: int) -> tuple[str, int, int]:
    """Identify data, check its pixel budget frame by frame and fully decode every frame."""
    limit = max_pixels
    if Image.MAX_IMAGE_PIXELS is not None:
        limit = min(limit, int(Image.MAX_IMAGE_PIXELS))
    with _identify(data, filename) as image:
        image_format = _FORMAT_ALIASES.get(str(image.format), str(image.format))
        width, height = image.size
        if image.mode not in _DISPLAYABLE_MODES:
            raise ImageRejected(f"unsupported colour mode {image.mode}", filename)
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        decoded = 0
        # Seeking is where Pillow checks GIF frame extents, and every frame is decoded so
        # that a page truncated at the end of a multi-page TIFF is caught as well.
        for frame in ImageSequence.Iterator(image):
            frame_width, frame_height = frame.size
            frame_pixels = frame_width * frame_height
            decoded += frame_pixels
            if frame_pixels > limit:
                raise ImageRejected(
                    f"too many pixels ({frame_width}x{frame_height} = {frame_pixels}; "
                    f"the limit is {limit})",
                    filename,
                )
            if decoded > max_pixels:
                raise ImageRejected(
                    f"too many pixels ({decoded} in all frames together; "
                    f"the limit is {max_pixels})",
                    filename,
                )
            frame.load()
    if orientation in _QUARTER_TURNS:
        width, height = height, width
    return image_format, width, height


def _identify(data: bytes, filename: str) -> Image.Image:
    """Open data with an accepted format plugin, or refuse it naming what it really is."""
    try:
        return Image.open(io.BytesIO(data), formats=_OPENABLE_FORMATS)
    except UnidentifiedImageError:
        pass
    # Identify with every plugin only to name the format in the refusal; never decoded.
    try:
        with Image.open(io.BytesIO(data)) as other:
            other_format = other.format
    except UnidentifiedImageError:
        other_format = None
    if other_format:
        raise ImageRejected(
            f"unsupported image format {other_format} (accepted: {ACCEPTED_FORMATS_TEXT})",
            filename,
        )
    claimed = _claimed_format(data)
    if claimed:
        raise ImageRejected(
            f"damaged image (starts like a {claimed} file but cannot be read)", filename
        )
    raise ImageRejected("not an image (no known image format)", filename)


def _claimed_format(data: bytes) -> str | None:
    """Return the accepted format whose signature data starts with, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def _describe(exc: Exception) -> str:
    """Return a short human description of a decoding error."""
    text = str(exc).strip()
    return text or type(exc).__name__


def _draft_for_edge(image: Image.Image, needed_edge: int) -> None:
    """Ask the JPEG decoder for the smallest scale that keeps the longest edge >= needed_edge."""
    width, height = image.size
    longest = max(width, height)
    if needed_edge >= longest:
        return
    # libjpeg decodes at 1/8, 1/4 or 1/2 with edges rounded up: take the coarsest that is big enough.
    scale = next((s for s in (8, 4, 2) if -(-longest // s) >= needed_edge), 1)
    if scale > 1:
        # draft() picks its scale as min(width // w, height // h): asking for each edge divided
        # (rounded down) by the scale gives exactly that scale. Scaling both edges by needed_edge
        # instead rounded the shorter edge up and decoded one scale finer than needed.
        image.draft(None, (width // scale, height // scale))


def _to_display_modes(image: Image.Image) -> Image.Image:
    """Convert any decoded mode to sRGB RGB or RGBA, honouring an embedded ICC profile."""
    icc = image.info.get("icc_profile")
    image = _to_eight_bit(image)
    if isinstance(icc, bytes) and icc:
        image = _to_srgb(image, icc)
    if image.mode == "CMYK":
        image = image.convert("RGB")
    elif image.mode == "LA":
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    return image


def _to_eight_bit(image: Image.Image) -> Image.Image:
    """Bring deep, bilevel, palette and odd modes down to L, LA, RGB, RGBA or CMYK."""
    mode = image.mode
    if mode.startswith("I;16"):
        # 16-bit samples have a nominal range of 0-65535, so scale that whole range onto
        # 0-255 rather than stretching to the image's own extremes: a dark scan should stay
        # as dark as the file says it is.
        return _linear_to_l(image.convert("I"), 0, 65535)
    if mode in ("I", "F"):
        # 32-bit integer and float images have no nominal range, so stretch their extremes.
        low, high = image.getextrema()
        if not isinstance(low, int | float) or not isinstance(high, int | float):
            raise ValueError(f"unexpected extrema for a {mode} image")
        return _linear_to_l(image, float(low), float(high))
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("L", "RGB") and "transparency" in image.info:
        return image.convert("LA" if mode == "L" else "RGBA")
    if mode == "LAB":
        # Pillow's plain LAB -> RGB conversion reinterprets the channels, so go through lcms.
        converted = ImageCms.profileToProfile(
            image, ImageCms.createProfile("LAB"), _srgb_profile(), outputMode="RGB"
        )
        return image if converted is None else converted
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    return image.convert("RGB")


def _linear_to_l(image: Image.Image, low: float, high: float) -> Image.Image:
    """Map values from low..high linearly onto 0..255 in an L image."""
    scale = 255.0 / (high - low) if high > low else 0.0
    offset = 0.5 - low * scale
    return image.point(lambda value: value * scale + offset).convert("L")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Convert colours from the embedded profile to sRGB, or leave them if it is unusable."""
    alpha = image.getchannel("A") if image.mode in ("LA", "RGBA") else None
    colour = image.convert(image.mode[:-1]) if alpha is not None else image
    expected_space = {"L": "GRAY", "RGB": "RGB", "CMYK": "CMYK"}.get(colour.mode)
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != expected_space:
            logger.info("ignoring an ICC profile for the wrong colour space")
            return image
        converted = ImageCms.profileToProfile(
            colour,
            profile,
            _srgb_profile(),
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        # A broken profile must not make the image unviewable; untagged pixels are close
        # enough to sRGB for display.
        logger.warning("ignoring an unusable ICC profile: %s", exc)
        return image
    if converted is None:
        return image
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    """Return the built-in sRGB profile, created once."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
