"""IIIF Image API 3.0: request parameters, their rendering with Pillow, and the info.json document.

Owns what each region/size/rotation/quality/format value means (and which are errors), their
canonical forms, and the on-disk cache of rendered IIIF images; knows nothing about HTTP.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Literal

from PIL import Image

from museum.images.ingest import open_for_display, write_atomically

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE = "level2"
PROFILE_URI = "http://iiif.io/api/image/3/level2.json"
TILE_SIZE = 512
# Bumped whenever rendering changes, so cached files and ETags of the old rendering retire.
RENDER_VERSION = 2

# The formats we render, by their IIIF extension.
FORMATS: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tif": "image/tiff",
    "gif": "image/gif",
}
# Formats the specification names that we do not render: a valid request we cannot serve.
_UNIMPLEMENTED_FORMATS = frozenset({"jp2", "pdf"})
QUALITIES = ("default", "color", "gray", "bitonal")
# Every feature we implement, listed in info.json (level 2 ones included, so clients need no table).
EXTRA_FEATURES = (
    "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
    "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
    "rotationBy90s", "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh",
    "sizeUpscaling",
)
EXTRA_QUALITIES = ("gray", "bitonal")
EXTRA_FORMATS = ("png", "webp", "tif", "gif")

# A parameter longer than this is never a real request; refusing it early bounds the work.
_MAX_PARAMETER_LENGTH = 120
# Digits allowed in one number: plenty for any image, and far below int()'s own limit.
_NUMBER_DIGITS = 30
_INT = rf"[0-9]{{1,{_NUMBER_DIGITS}}}"
_DECIMAL = rf"(?:[0-9]{{1,{_NUMBER_DIGITS}}}(?:\.[0-9]{{0,{_NUMBER_DIGITS}}})?|\.[0-9]{{1,{_NUMBER_DIGITS}}})"
_REGION_PIXELS = re.compile(rf"({_INT}),({_INT}),({_INT}),({_INT})")
_REGION_PERCENT = re.compile(rf"pct:({_DECIMAL}),({_DECIMAL}),({_DECIMAL}),({_DECIMAL})")
_SIZE_W = re.compile(rf"({_INT}),")
_SIZE_H = re.compile(rf",({_INT})")
_SIZE_WH = re.compile(rf"({_INT}),({_INT})")
_SIZE_CONFINED = re.compile(rf"!({_INT}),({_INT})")
_SIZE_PERCENT = re.compile(rf"pct:({_DECIMAL})")
_ROTATION = re.compile(rf"(!?)({_DECIMAL})")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
# What a canonical parameter can contain; checked again before it becomes part of a file path.
_SAFE_SEGMENT = re.compile(r"[0-9a-z,.!^]{1,80}")

# White is the page colour the site shows images on, so it fills where there is no alpha.
_BACKGROUND = (255, 255, 255)


class IiifRequestError(ValueError):
    """A request the Image API answers with an error status (400 or 501) and a short reason."""

    def __init__(self, status: int, message: str) -> None:
        """Record the HTTP status the specification asks for and the reason."""
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        """Return the reason, for the response body."""
        return self.message


def _bad(message: str) -> IiifRequestError:
    """Return a 400 Bad Request error."""
    return IiifRequestError(400, message)


@dataclass(frozen=True)
class Limits:
    """The largest images we render, declared in info.json as maxWidth, maxHeight and maxArea."""

    # WebP cannot encode an edge longer than 16383 pixels, so no format may go beyond it.
    max_width: int = 16383
    max_height: int = 16383
    # About 50 megapixels: 200 MB of RGBA in memory at most for one request.
    max_area: int = 50_000_000


DEFAULT_LIMITS = Limits()


# ----- parameters as written ---------------------------------------------------------------


@dataclass(frozen=True)
class RegionSpec:
    """The region parameter as written: full, square, pixels or percent of the full image."""

    kind: Literal["full", "square", "pixels", "percent"]
    values: tuple[Fraction, Fraction, Fraction, Fraction] = (Fraction(0),) * 4


@dataclass(frozen=True)
class SizeSpec:
    """The size parameter as written; width/height/percent are set as the form needs."""

    kind: Literal["max", "w", "h", "pct", "wh", "confined"]
    upscale: bool = False
    width: int = 0
    height: int = 0
    percent: Fraction = Fraction(0)


@dataclass(frozen=True)
class RotationSpec:
    """The rotation parameter: mirror first, then turn clockwise by degrees (0 <= degrees < 360)."""

    mirror: bool
    degrees: Fraction
    text: str   # canonical decimal text of degrees ("0", "90", "22.5")


def _check_length(name: str, text: str) -> None:
    """Refuse absurdly long parameters before any pattern is tried on them."""
    if not text or len(text) > _MAX_PARAMETER_LENGTH:
        raise _bad(f"invalid {name}")


def _positive(value: Fraction | int, name: str) -> None:
    """Refuse a zero width, height or percentage."""
    if value <= 0:
        raise _bad(f"{name} must be greater than zero")


def parse_region(text: str) -> RegionSpec:
    """Read a region parameter (full, square, x,y,w,h or pct:x,y,w,h); raise 400 if malformed."""
    _check_length("region", text)
    if text == "full":
        return RegionSpec("full")
    if text == "square":
        return RegionSpec("square")
    pixels = _REGION_PIXELS.fullmatch(text)
    percent = _REGION_PERCENT.fullmatch(text)
    match = pixels or percent
    if match is None:
        raise _bad(f"invalid region {text!r}")
    x, y, w, h = (Fraction(group) for group in match.groups())
    _positive(w, "region width")
    _positive(h, "region height")
    if percent is not None and (x >= 100 or y >= 100):
        raise _bad("region lies entirely outside the image")
    return RegionSpec("pixels" if pixels else "percent", (x, y, w, h))


def parse_size(text: str) -> SizeSpec:
    """Read a size parameter (max, w,, ,h, pct:n, w,h, !w,h, each optionally ^); raise 400 if malformed."""
    _check_length("size", text)
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return SizeSpec("max", upscale)
    if match := _SIZE_W.fullmatch(body):
        width = int(match.group(1))
        _positive(width, "width")
        return SizeSpec("w", upscale, width=width)
    if match := _SIZE_H.fullmatch(body):
        height = int(match.group(1))
        _positive(height, "height")
        return SizeSpec("h", upscale, height=height)
    if match := _SIZE_WH.fullmatch(body):
        width, height = int(match.group(1)), int(match.group(2))
        _positive(width, "width")
        _positive(height, "height")
        return SizeSpec("wh", upscale, width=width, height=height)
    if match := _SIZE_CONFINED.fullmatch(body):
        width, height = int(match.group(1)), int(match.group(2))
        _positive(width, "width")
        _positive(height, "height")
        return SizeSpec("confined", upscale, width=width, height=height)
    if match := _SIZE_PERCENT.fullmatch(body):
        percent = Fraction(match.group(1))
        _positive(percent, "percentage")
        if percent > 100 and not upscale:
            raise _bad("a size above 100% needs the ^ prefix")
        return SizeSpec("pct", upscale, percent=percent)
    # "full" was the 2.x name of max; 3.0 removed it, so it is malformed like any other word.
    raise _bad(f"invalid size {text!r}")


def parse_rotation(text: str) -> RotationSpec:
    """Read a rotation parameter (n or !n, 0 <= n <= 360); raise 400 if malformed."""
    _check_length("rotation", text)
    match = _ROTATION.fullmatch(text)
    if match is None:
        raise _bad(f"invalid rotation {text!r}")
    degrees = Fraction(match.group(2))
    if degrees > 360:
        raise _bad("rotation must be between 0 and 360 degrees")
    # A full turn is no turn; one canonical form keeps one cached file.
    degrees %= 360
    return RotationSpec(mirror=bool(match.group(1)), degrees=degrees,
                        text="0" if degrees == 0 else _decimal_text(match.group(2)))


def _decimal_text(written: str) -> str:
    """Return a decimal as written without leading or trailing zeros ("022.50" -> "22.5")."""
    whole, _, fraction = written.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def parse_quality(text: str) -> str:
    """Read a quality parameter; raise 400 for anything but default, color, gray or bitonal."""
    if text not in QUALITIES:
        raise _bad(f"invalid quality {text[:_MAX_PARAMETER_LENGTH]!r}")
    return text


def parse_format(text: str) -> str:
    """Read a format parameter; raise 501 for jp2/pdf (valid, not implemented), 400 otherwise."""
    if text in FORMATS:
        return text
    if text in _UNIMPLEMENTED_FORMATS:
        raise IiifRequestError(501, f"the {text} format is not implemented")
    raise _bad(f"invalid format {text[:_MAX_PARAMETER_LENGTH]!r}")


# ----- a request resolved against an image -------------------------------------------------


@dataclass(frozen=True)
class ImageRequest:
    """An image request resolved against one image: exact pixels in, exact pixels out."""

    region: tuple[int, int, int, int]   # x, y, w, h in pixels of the full (displayed) image
    size: tuple[int, int]               # width and height after scaling, before rotation
    mirror: bool
    degrees: Fraction                   # clockwise, 0 <= degrees < 360
    quality: str
    format: str
    region_text: str
    size_text: str
    rotation_text: str

    @property
    def canonical(self) -> str:
        """Return the canonical region/size/rotation/quality.format path of this request."""
        return f"{self.region_text}/{self.size_text}/{self.rotation_text}/{self.quality}.{self.format}"

    @property
    def media_type(self) -> str:
        """Return the MIME type of the response body."""
        return FORMATS[self.format]


def resolve_request(region: str, size: str, rotation: str, quality: str, fmt: str,
                    width: int, height: int, limits: Limits = DEFAULT_LIMITS) -> ImageRequest:
    """Check every parameter against an image of width x height; raise IiifRequestError if refused.

    Syntax is checked for all parameters before any of them is measured against the image, so
    a malformed request is a 400 whatever else it asks for.
    """
    region_spec = parse_region(region)
    size_spec = parse_size(size)
    rotation_spec = parse_rotation(rotation)
    quality = parse_quality(quality)
    fmt = parse_format(fmt)
    box = region_pixels(region_spec, width, height)
    out = output_size(size_spec, box[2], box[3], limits)
    _check_rotated_fits(out, rotation_spec.degrees, limits)
    return ImageRequest(
        region=box, size=out, mirror=rotation_spec.mirror, degrees=rotation_spec.degrees,
        quality="default" if quality == "color" else quality, format=fmt,
        region_text="full" if box == (0, 0, width, height) else ",".join(map(str, box)),
        size_text=_size_text(out, box[2], box[3], limits),
        rotation_text=("!" if rotation_spec.mirror else "") + rotation_spec.text,
    )


def region_pixels(spec: RegionSpec, width: int, height: int) -> tuple[int, int, int, int]:
    """Return the region as x, y, w, h pixels clipped to the image; raise 400 if nothing is left."""
    if spec.kind == "full":
        return 0, 0, width, height
    if spec.kind == "square":
        # The specification leaves the position to the server; the centre is what people expect.
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    x, y, w, h = spec.values
    if spec.kind == "percent":
        # Exact fractions, so pct:10,10,9,9 of 1000 pixels is exactly 100,100,90,90. The start
        # rounds down and the end to nearest, keeping at least one pixel of a non-empty region.
        left, top = math.floor(x * width / 100), math.floor(y * height / 100)
        right = max(left + 1, _round_half_up((x + w) * width / 100))
        bottom = max(top + 1, _round_half_up((y + h) * height / 100))
    else:
        left, top, right, bottom = int(x), int(y), int(x + w), int(y + h)
    if left >= width or top >= height:
        raise _bad("region lies entirely outside the image")
    right, bottom = min(right, width), min(bottom, height)
    return left, top, right - left, bottom - top


def _limit_scale(width: int, height: int, limits: Limits) -> float:
    """Return the largest scale of a width x height region that stays within the limits."""
    return min(limits.max_width / width, limits.max_height / height,
               math.sqrt(limits.max_area / (width * height)))


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    """Return width x height scaled, rounded down (so limits hold) but never below one pixel."""
    # The small allowance keeps 3000 * (1000/3000) at 1000 despite floating-point error.
    return max(1, math.floor(width * scale + 1e-9)), max(1, math.floor(height * scale + 1e-9))


def max_size(width: int, height: int, limits: Limits = DEFAULT_LIMITS,
             upscale: bool = False) -> tuple[int, int]:
    """Return the size `max` (or `^max` with upscale) gives for a width x height region."""
    scale = _limit_scale(width, height, limits)
    if not upscale and scale >= 1:
        return width, height
    return _scaled(width, height, scale)


def output_size(spec: SizeSpec, width: int, height: int,
                limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """Return the output size for a width x height region; raise 400 if it is not allowed.

    Without ^ no form may make the region larger (the validator reads !w,h this way too);
    with ^ or without, nothing may exceed the declared limits.
    """
    if spec.kind == "max":
        return max_size(width, height, limits, spec.upscale)
    if spec.kind == "confined":
        return _confined_size(spec, width, height, limits)
    if spec.kind == "w":
        out = spec.width, max(1, _round_half_up(Fraction(height * spec.width, width)))
    elif spec.kind == "h":
        out = max(1, _round_half_up(Fraction(width * spec.height, height))), spec.height
    elif spec.kind == "pct":
        out = (max(1, _round_half_up(width * spec.percent / 100)),
               max(1, _round_half_up(height * spec.percent / 100)))
    else:
        out = spec.width, spec.height
    if not spec.upscale and (out[0] > width or out[1] > height):
        raise _bad("the size is larger than the region: use the ^ prefix to upscale")
    if out[0] > limits.max_width or out[1] > limits.max_height or out[0] * out[1] > limits.max_area:
        raise _bad(f"the size {out[0]}x{out[1]} exceeds maxWidth, maxHeight or maxArea in info.json")
    return out


def _confined_size(spec: SizeSpec, width: int, height: int, limits: Limits) -> tuple[int, int]:
    """Return the size of !w,h or ^!w,h: as large as possible within w, h and the limits."""
    width_binds = spec.width * height <= spec.height * width
    scale = Fraction(spec.width, width) if width_binds else Fraction(spec.height, height)
    if scale > 1 and not spec.upscale:
        raise _bad("the box is larger than the region: use ^!w,h to upscale")
    limit = _limit_scale(width, height, limits)
    if limit < scale:
        return _scaled(width, height, limit)
    # The binding side is exactly w (or h); the other is rounded to nearest within the box.
    if width_binds:
        out = spec.width, min(spec.height, max(1, _round_half_up(height * scale)))
    else:
        out = min(spec.width, max(1, _round_half_up(width * scale))), spec.height
    if out[0] * out[1] > limits.max_area:
        return _scaled(width, height, limit)
    return out


def _round_half_up(value: Fraction) -> int:
    """Round a non-negative fraction to the nearest integer, halves up (Python's round() goes to even)."""
    return math.floor(value + Fraction(1, 2))


def _size_text(out: tuple[int, int], width: int, height: int, limits: Limits) -> str:
    """Return the canonical size: max when it is the region's max size, ^w,h when upscaled, else w,h."""
    if out == max_size(width, height, limits):
        return "max"
    upscaled = out[0] > width or out[1] > height
    return f"{'^' if upscaled else ''}{out[0]},{out[1]}"


def _rotated_size(size: tuple[int, int], degrees: Fraction) -> tuple[int, int]:
    """Return the bounding box of a width x height image turned by degrees."""
    if degrees % 180 == 0:
        return size
    if degrees % 90 == 0:
        return size[1], size[0]
    radians = math.radians(float(degrees))
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    width, height = size
    return math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos)


def _check_rotated_fits(size: tuple[int, int], degrees: Fraction, limits: Limits) -> None:
    """Refuse a turn whose bounding box would exceed the limits (it can double the area)."""
    width, height = _rotated_size(size, degrees)
    if width > limits.max_width or height > limits.max_height or width * height > limits.max_area:
        raise _bad("the rotated image would exceed maxWidth, maxHeight or maxArea in info.json")


# ----- info.json ---------------------------------------------------------------------------


def scale_factors(width: int, height: int, tile: int = TILE_SIZE) -> list[int]:
    """Return 1, 2, 4, ... up to the first factor at which the whole image fits in one tile."""
    factors = [1]
    while max(width, height) > tile * factors[-1]:
        factors.append(factors[-1] * 2)
    return factors


def info_document(service_id: str, width: int, height: int,
                  limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Return the Image Information (info.json) of an image served at service_id."""
    sizes: list[dict[str, int]] = []
    factor = 1
    while True:
        size = (-(-width // factor), -(-height // factor))
        if size[0] <= limits.max_width and size[1] <= limits.max_height \
                and size[0] * size[1] <= limits.max_area:
            sizes.append({"width": size[0], "height": size[1]})
        # Down to thumbnails, but always at least one size however small the image is.
        if max(size) <= 64 or min(size) == 1:
            break
        factor *= 2
    sizes.reverse()
    return {
        "@context": CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": PROFILE,
        "width": width,
        "height": height,
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxArea": limits.max_area,
        "sizes": sizes,
        "tiles": [{"width": TILE_SIZE, "height": TILE_SIZE,
                   "scaleFactors": scale_factors(width, height)}],
        "extraQualities": list(EXTRA_QUALITIES),
        "extraFormats": list(EXTRA_FORMATS),
        "extraFeatures": list(EXTRA_FEATURES),
    }


# ----- rendering ---------------------------------------------------------------------------


def etag(sha256: str, request: ImageRequest) -> str:
    """Return the entity tag of a rendered image: the same on every node, new with each rendering."""
    key = f"{RENDER_VERSION}/{sha256}/{request.canonical}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def rendition_path(derivatives_dir: Path, sha256: str, request: ImageRequest) -> Path:
    """Return the cache path iiif/v<N>/ab/<sha256>/<region>/<size>/<rotation>/<quality>.<fmt>."""
    if not _SHA256_RE.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    parts = [request.region_text, request.size_text, request.rotation_text,
             f"{request.quality}.{request.format}"]
    # Canonical parts are built from numbers we formatted, never from the URL; this check
    # makes sure that stays so (no "..", no separators) if the code ever changes.
    if not all(_SAFE_SEGMENT.fullmatch(part) and part not in (".", "..") for part in parts):
        raise ValueError(f"unsafe canonical request {request.canonical!r}")
    return derivatives_dir.joinpath("iiif", f"v{RENDER_VERSION}", sha256[:2], sha256, *parts)


def ensure_rendition(original: Path, original_format: str, derivatives_dir: Path, sha256: str,
                     request: ImageRequest, width: int, height: int) -> Path:
    """Return the cached file of a request, rendering it from the original first if missing.

    Two requests rendering the same file at once each write a private temporary file and
    rename it into place, so readers only ever see a complete image.
    """
    path = rendition_path(derivatives_dir, sha256, request)
    if path.is_file():
        return path
    image = render(original, original_format, request, width, height)
    write_atomically(path, lambda out: encode(image, request.format, out))
    return path


def render(original: Path, original_format: str, request: ImageRequest,
           width: int, height: int) -> Image.Image:
    """Apply region, size, rotation and quality (in that order) to a displayed original."""
    x, y, w, h = request.region
    out_w, out_h = request.size
    # Decode no finer than needed: a JPEG can be decoded at 1/2, 1/4 or 1/8 scale almost for
    # free, so take the largest of those not above the region's scale factor.
    factor = min(w / out_w, h / out_h)
    reduction = 1
    if original_format.upper() in ("JPEG", "MPO"):
        while reduction < 8 and reduction * 2 <= factor:
            reduction *= 2
    source = _DECODED.get(original, reduction, width, height)
    # The decoded image may be a little larger than width/reduction (the decoder rounds up).
    fx, fy = source.width / width, source.height / height
    box = (x * fx, y * fy, (x + w) * fx, (y + h) * fy)
    if (out_w, out_h) == (box[2] - box[0], box[3] - box[1]) and all(float(v).is_integer() for v in box):
        image = source.crop((int(box[0]), int(box[1]), int(box[2]), int(box[3])))
    else:
        # reducing_gap first shrinks by a whole factor with a cheap box filter (Image.reduce)
        # and finishes with Lanczos: nearly as sharp and much faster for big reductions.
        image = source.resize((out_w, out_h), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    if request.mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = _rotate(image, request.degrees, request.format)
    return _apply_quality(image, request.quality, request.format)


def _rotate(image: Image.Image, degrees: Fraction, fmt: str) -> Image.Image:
    """Turn image clockwise, filling the corners of odd angles with transparency or white."""
    quarter_turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                     270: Image.Transpose.ROTATE_90}
    if degrees == 0:
        return image
    if degrees in quarter_turns:
        return image.transpose(quarter_turns[int(degrees)])
    fill: tuple[int, ...]
    if fmt in ("png", "webp", "tif"):
        # These formats have alpha: the corners are left transparent.
        image = image.convert("RGBA")
        fill = (0, 0, 0, 0)
    else:
        fill = (*_BACKGROUND, 255) if image.mode == "RGBA" else _BACKGROUND
    # Pillow turns counter-clockwise; IIIF turns clockwise.
    return image.rotate(-float(degrees), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def _flatten(image: Image.Image) -> Image.Image:
    """Return image without alpha, laid on the white page background."""
    if image.mode not in ("RGBA", "LA"):
        return image
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, _BACKGROUND)
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat if image.mode == "RGBA" else flat.convert("L")


def _apply_quality(image: Image.Image, quality: str, fmt: str) -> Image.Image:
    """Return image in the quality asked for, in a mode fmt can hold."""
    keeps_alpha = fmt in ("png", "webp", "tif")
    if quality == "bitonal":
        # A plain threshold, not dithering: bitonal is asked for documents and line art,
        # where dots would only blur the strokes.
        return _flatten(image).convert("L").convert("1", dither=Image.Dither.NONE)
    if quality == "gray":
        if image.mode == "RGBA" and keeps_alpha:
            return image.convert("LA")
        return _flatten(image).convert("L")
    return image if keeps_alpha else _flatten(image)


def encode(image: Image.Image, fmt: str, out: IO[bytes]) -> None:
    """Write image in fmt to out, with no metadata at all (no EXIF, no GPS, no profile)."""
    # The displayed image carries no metadata, but nothing may ever pass through here.
    image.info = {}
    if fmt == "jpg":
        image = _flatten(image)
        if image.mode not in ("L", "RGB"):
            image = image.convert("L" if image.mode == "1" else "RGB")
        # Optimised Huffman tables: a fifth fewer bytes per tile for phones, for about 0.4 ms more.
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "png":
        # Level 3 of 9: nearly the smallest files at a fraction of the default's time.
        image.save(out, "PNG", compress_level=3)
    elif fmt == "webp":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.mode == "LA" else "RGB")
        # Effort 1 of 6: files within a few percent of the default's, in well under half the
        # time, which matters because the site's own viewer asks for its tiles in WebP.
        image.save(out, "WEBP", quality=80, method=1)
    elif fmt == "tif":
        image.save(out, "TIFF", compression="tiff_deflate")
    elif fmt == "gif":
        image.save(out, "GIF")
    else:
        raise ValueError(f"cannot encode {fmt!r}")


class _DecodedCache:
    """Originals decoded for display, kept per process so the tiles of one image decode it once.

    A viewer asks for dozens of tiles of the same image at the same scale; decoding a large
    JPEG costs far more than cutting and encoding a tile, so each worker keeps the last few
    decodes (least recently used first out) within a fixed memory budget.
    """

    def __init__(self, budget_bytes: int) -> None:
        """Start empty with a budget in bytes of decoded pixels."""
        self._budget = budget_bytes
        self._images: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()
        # One lock per key, so simultaneous requests for the same image decode it only once.
        self._key_locks: dict[tuple[str, int], threading.Lock] = {}

    def get(self, original: Path, reduction: int, width: int, height: int) -> Image.Image:
        """Return the displayed original decoded at 1/reduction scale (never modify it)."""
        key = (str(original), reduction)
        with self._lock:
            cached = self._images.get(key)
            if cached is not None:
                self._images.move_to_end(key)
                return cached
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        try:
            with key_lock:
                with self._lock:
                    cached = self._images.get(key)
                    if cached is not None:
                        self._images.move_to_end(key)
                        return cached
                # The longest edge at 1/reduction or more: the JPEG decoder then picks that
                # draft scale (or a finer one), never a coarser one.
                # Rounded down: rounding up made JPEG draft decode one scale finer than needed.
                needed_edge = None if reduction == 1 else max(width, height) // reduction
                decoded = open_for_display(original, needed_edge=needed_edge)
                self._keep(key, decoded)
                return decoded
        finally:
            with self._lock:
                self._key_locks.pop(key, None)

    def _keep(self, key: tuple[str, int], image: Image.Image) -> None:
        """Remember image under key, forgetting the least recently used ones beyond the budget."""
        cost = image.width * image.height * len(image.getbands())
        if cost > self._budget:
            return
        with self._lock:
            if key in self._images:
                return
            self._images[key] = image
            self._used += cost
            while self._used > self._budget:
                _, old = self._images.popitem(last=False)
                self._used -= old.width * old.height * len(old.getbands())

    def clear(self) -> None:
        """Forget every decoded image (tests use this to measure cold requests)."""
        with self._lock:
            self._images.clear()
            self._used = 0

    def entries(self) -> list[tuple[str, int, tuple[int, int]]]:
        """Return (original, reduction, decoded size) of each kept decode, least recent first."""
        with self._lock:
            return [(path, reduction, image.size) for (path, reduction), image in self._images.items()]


# 256 MB per process holds a few large originals, e.g. three 24-megapixel photographs.
_DECODED = _DecodedCache(256 * 1024 * 1024)


def clear_decoded_cache() -> None:
    """Forget the decoded originals this process keeps."""
    _DECODED.clear()


def decoded_cache_entries() -> list[tuple[str, int, tuple[int, int]]]:
    """Return (original, reduction, decoded size) of each decode this process keeps (diagnostics)."""
    return _DECODED.entries()
