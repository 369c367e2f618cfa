"""Derivative renditions of originals (thumb, medium, large as JPEG and WebP) and their cache.

Derivatives carry no metadata and are written atomically, so concurrent renders are safe.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from museum.images.ingest import open_for_display, write_atomically

# Longest edge in pixels; never upscaled.
DERIVATIVE_SIZES: dict[str, int] = {"thumb": 320, "medium": 1024, "large": 2048}
DERIVATIVE_FORMATS: dict[str, str] = {"jpeg": "image/jpeg", "webp": "image/webp"}

_EXTENSIONS = {"jpeg": "jpg", "webp": "webp"}
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
# JPEG has no alpha, so transparent areas are shown on the page background colour.
_FLATTEN_ONTO = (255, 255, 255)


class UnknownDerivative(ValueError):
    """A derivative size, format or image hash that does not exist."""


def derivative_path(derivatives_dir: Path, sha256: str, size: str, fmt: str) -> Path:
    """Return the cache path of one derivative (derivatives_dir/<size>/ab/<sha256>.<ext>).

    Raise UnknownDerivative for a bad size, format or hash.
    """
    if size not in DERIVATIVE_SIZES:
        raise UnknownDerivative(f"unknown derivative size {size!r}")
    if fmt not in DERIVATIVE_FORMATS:
        raise UnknownDerivative(f"unknown derivative format {fmt!r}")
    # The hash comes from URLs, so it must never be able to climb out of the cache.
    if not _SHA256_RE.fullmatch(sha256):
        raise UnknownDerivative(f"not a SHA-256 hex digest: {sha256!r}")
    return derivatives_dir / size / sha256[:2] / f"{sha256}.{_EXTENSIONS[fmt]}"


def ensure_derivative(
    original: Path, derivatives_dir: Path, sha256: str, size: str, fmt: str
) -> Path:
    """Return the derivative's path, rendering it from the original first if it is missing."""
    path = derivative_path(derivatives_dir, sha256, size, fmt)
    if path.exists():
        return path
    edge = DERIVATIVE_SIZES[size]
    display = open_for_display(original, needed_edge=edge)
    _save(_fit(display, edge), path, fmt)
    return path


def make_derivatives(original: Path, derivatives_dir: Path, sha256: str) -> list[Path]:
    """Render every size in every format from one decode of the original (used at ingest)."""
    wanted = {
        (size, fmt): derivative_path(derivatives_dir, sha256, size, fmt)
        for size in DERIVATIVE_SIZES
        for fmt in DERIVATIVE_FORMATS
    }
    missing = {key: path for key, path in wanted.items() if not path.exists()}
    if missing:
        sizes = sorted(DERIVATIVE_SIZES, key=DERIVATIVE_SIZES.__getitem__, reverse=True)
        rendition = open_for_display(original, needed_edge=DERIVATIVE_SIZES[sizes[0]])
        # Each size is made from the next larger one: far less work than going back to the
        # full decode every time, and LANCZOS from at least the target size stays sharp.
        for size in sizes:
            rendition = _fit(rendition, DERIVATIVE_SIZES[size])
            for fmt in DERIVATIVE_FORMATS:
                if (size, fmt) in missing:
                    _save(rendition, missing[(size, fmt)], fmt)
    return list(wanted.values())


def _fit(image: Image.Image, edge: int) -> Image.Image:
    """Return image scaled down so its longest edge is edge pixels, or unchanged if smaller."""
    width, height = image.size
    longest = max(width, height)
    if longest <= edge:
        return image
    scale = edge / longest
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap lets Pillow shrink by whole factors with a cheap box filter first and
    # finish with LANCZOS, which is nearly as good as pure LANCZOS and much faster.
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _save(image: Image.Image, path: Path, fmt: str) -> None:
    """Encode image as fmt into path atomically, carrying no metadata at all."""
    if fmt == "jpeg":
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, _FLATTEN_ONTO)
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    # Neither exif= nor icc_profile= is passed: the pixels are already sRGB, which is what
    # browsers assume for untagged images, and EXIF may carry GPS positions of donors' homes.
    if fmt == "jpeg":
        write_atomically(
            path,
            lambda out: image.save(out, "JPEG", quality=85, progressive=True, optimize=True),
        )
    else:
        write_atomically(path, lambda out: image.save(out, "WEBP", quality=80, method=4))
