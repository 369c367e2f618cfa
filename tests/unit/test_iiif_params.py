"""Unit tests of the IIIF Image API module: parameters, canonical forms, info.json and rendering."""

from __future__ import annotations

import io
import threading
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageStat

from museum.images import iiif
from museum.images.iiif import (
    DEFAULT_LIMITS,
    IiifRequestError,
    ImageRequest,
    Limits,
    ensure_rendition,
    info_document,
    output_size,
    parse_format,
    parse_quality,
    parse_region,
    parse_rotation,
    parse_size,
    region_pixels,
    render,
    rendition_path,
    resolve_request,
)
from museum.images.ingest import ingest_image, open_for_display

DATA = Path(__file__).resolve().parents[1] / "data" / "images"
SHA = "ab" + "0" * 62


def _status(call: object, *args: object) -> int:
    """Return the status of the IiifRequestError the call raises (fails if it raises none)."""
    with pytest.raises(IiifRequestError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.status


# ----- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "fulll", "Full", "full ", " full", "squares", "-1,0,10,10", "0,-1,10,10", "0,0,0,10", "0,0,10,0",
    "1.5,0,10,10", "0,0,10", "0,0,10,10,10", "0,0,10,10,", ",0,0,10", "pct:", "pct:0,0,0,10",
    "pct:0,0,10,0", "pct:-1,0,10,10", "pct:nan,0,10,10", "pct:inf,0,10,10", "pct:1e2,0,1,1",
    "pct:100,0,10,10", "pct:0,100,10,10", "pct:0,0,10", "pct:0x1,0,1,1", "pct:1..5,0,1,1", "pct:.,0,1,1",
    "..", ".", "%2e%2e", "%20", "\x00", "０,0,10,10", "٣,0,10,10", "1_0,0,10,10", "+1,0,10,10",
    "x" * 200, "9" * 31 + ",0,10,10", "0,0,10,10\n",
])
def test_malformed_regions_are_400(text: str) -> None:
    assert _status(parse_region, text) == 400


@pytest.mark.parametrize("text", [
    "", "full", "Max", "max ", "^", "^^max", "^full", "0,", ",0", "0,0", "0,5", "5,0", "!0,10", "!10,0",
    "!5,", "!,5", "pct:0", "pct:0.0", "pct:-5", "pct:101", "pct:100.01", "pct:nan", "pct:1e2", "pct:",
    "-5,", "5,5,", ",", "w,h", "1.5,", ",1.5", "5,5.0", "!5,5,5", "5;5", "%2C5", "max/", "٣,",
    "9" * 31 + ",", "x" * 200,
])
def test_malformed_sizes_are_400(text: str) -> None:
    assert _status(parse_size, text) == 400


@pytest.mark.parametrize("text", [
    "", "-90", "361", "360.0001", "abc", "90deg", "1e2", "nan", "inf", "!!90", "!", "90.5.5", "9 0", "+90",
    "٩٠", "0x10", "..", "x" * 200,
])
def test_malformed_rotations_are_400(text: str) -> None:
    assert _status(parse_rotation, text) == 400


@pytest.mark.parametrize(("text", "mirror", "canonical"), [
    ("0", False, "0"), ("90", False, "90"), ("!180", True, "180"), ("22.5", False, "22.5"),
    ("022.50", False, "22.5"), ("360", False, "0"), ("360.000", False, "0"), ("!0", True, "0"),
    (".5", False, "0.5"), ("5.", False, "5"), ("359.999", False, "359.999"), ("000", False, "0"),
])
def test_rotations_and_their_canonical_text(text: str, mirror: bool, canonical: str) -> None:
    spec = parse_rotation(text)
    assert (spec.mirror, spec.text) == (mirror, canonical)
    assert 0 <= spec.degrees < 360


@pytest.mark.parametrize("text", ["", "grey", "Default", "colour", "native", "default ", "bitonal.", "x" * 500])
def test_unknown_qualities_are_400(text: str) -> None:
    assert _status(parse_quality, text) == 400


def test_formats_known_unknown_and_unimplemented() -> None:
    for fmt in ("jpg", "png", "webp", "tif", "gif"):
        assert parse_format(fmt) == fmt
    assert _status(parse_format, "jp2") == 501
    assert _status(parse_format, "pdf") == 501
    for fmt in ("", "JPG", "jpeg", "tiff", "bmp", "exe", "jpg ", "x" * 300):
        assert _status(parse_format, fmt) == 400


# ----- regions and sizes against an image ---------------------------------------------------


@pytest.mark.parametrize(("text", "size", "expected"), [
    ("full", (1000, 800), (0, 0, 1000, 800)),
    ("square", (1000, 800), (100, 0, 800, 800)),
    ("square", (600, 1000), (0, 200, 600, 600)),
    ("0,0,10,10", (1000, 800), (0, 0, 10, 10)),
    ("990,790,100,100", (1000, 800), (990, 790, 10, 10)),      # cut at the edges, no padding
    ("0,0," + "9" * 30 + ",5", (1000, 800), (0, 0, 1000, 5)),
    ("pct:10,10,9,9", (1000, 1000), (100, 100, 90, 90)),       # exact, no floating-point drift
    ("pct:29,29,10,10", (1000, 1000), (290, 290, 100, 100)),
    ("pct:0,0,100,100", (1000, 800), (0, 0, 1000, 800)),
    ("pct:50,50,200,200", (1000, 800), (500, 400, 500, 400)),
    ("pct:99.99,0,0.001,100", (1000, 800), (999, 0, 1, 800)),  # a sliver still has one pixel
    ("pct:.5,.5,5.,5.", (1000, 800), (5, 4, 50, 40)),
])
def test_regions_in_pixels(text: str, size: tuple[int, int], expected: tuple[int, int, int, int]) -> None:
    assert region_pixels(parse_region(text), *size) == expected


@pytest.mark.parametrize("text", ["1000,0,10,10", "0,800,10,10", "5000,5000,1,1", "9" * 30 + ",0,1,1"])
def test_regions_entirely_outside_the_image_are_400(text: str) -> None:
    assert _status(region_pixels, parse_region(text), 1000, 800) == 400


@pytest.mark.parametrize(("text", "region", "expected"), [
    ("max", (1000, 800), (1000, 800)),
    ("500,", (1000, 800), (500, 400)),
    (",400", (1000, 800), (500, 400)),
    ("pct:50", (1000, 800), (500, 400)),
    ("pct:0.01", (1000, 800), (1, 1)),                 # never below one pixel
    ("333,", (1000, 1), (333, 1)),
    ("300,200", (1000, 800), (300, 200)),             # distorted on purpose
    ("!500,500", (1000, 800), (500, 400)),
    ("!2000,400", (1000, 800), (500, 400)),           # one side bigger is fine: no upscaling
    ("!1000,800", (1000, 800), (1000, 800)),
    ("^max", (1000, 1000), (7071, 7071)),             # up to maxArea
    ("^max", (20000, 100), (16383, 81)),              # up to maxWidth
    ("max", (20000, 2000), (16383, 1638)),            # max never exceeds the limits either
    ("max", (20000, 4000), (15811, 3162)),            # ... whichever of them binds
    ("max", (10000, 8000), (7905, 6324)),
    ("^2000,", (1000, 800), (2000, 1600)),
    ("^,1600", (1000, 800), (2000, 1600)),
    ("^pct:200", (1000, 800), (2000, 1600)),
    ("^2000,100", (1000, 800), (2000, 100)),
    ("^!2000,500", (1000, 1000), (500, 500)),
    ("^!2000,3000", (1000, 1000), (2000, 2000)),
    ("^500,", (1000, 800), (500, 400)),               # ^ allows, not requires, upscaling
    ("^!100000,100000", (1000, 1000), (7071, 7071)),  # confined to the limits, not refused
])
def test_output_sizes(text: str, region: tuple[int, int], expected: tuple[int, int]) -> None:
    assert output_size(parse_size(text), *region) == expected


@pytest.mark.parametrize("text", [
    "1001,", ",801", "pct:100.5", "1001,800", "1000,801", "!2000,3000", "!1001,801",   # upscaling without ^
    "^20000,", "^,20000", "^16384,1", "^8000,8000", "^pct:1000", "^" + "9" * 30 + ",",  # beyond the limits
])
def test_sizes_that_would_upscale_without_caret_or_exceed_limits_are_400(text: str) -> None:
    def attempt() -> None:
        output_size(parse_size(text), 1000, 800)

    assert _status(attempt) == 400


def test_maximum_and_upscaling_respect_other_limits() -> None:
    small = Limits(max_width=400, max_height=300, max_area=100_000)
    assert output_size(parse_size("max"), 1000, 800, small) == (353, 282)
    assert output_size(parse_size("^max"), 100, 100, small) == (300, 300)
    assert _status(output_size, parse_size("401,"), 1000, 800, small) == 400


# ----- whole requests -----------------------------------------------------------------------


@pytest.mark.parametrize(("params", "size", "canonical"), [
    ("full/max/0/default.jpg", (1000, 800), "full/max/0/default.jpg"),
    ("full/max/0/color.jpg", (1000, 800), "full/max/0/default.jpg"),
    ("0,0,1000,800/1000,800/360/default.png", (1000, 800), "full/max/0/default.png"),
    ("pct:0,0,100,100/pct:100/0/gray.webp", (1000, 800), "full/max/0/gray.webp"),
    ("square/max/0/default.jpg", (500, 500), "full/max/0/default.jpg"),
    ("square/!100,100/!90/bitonal.gif", (1000, 800), "100,0,800,800/100,100/!90/bitonal.gif"),
    ("pct:10,10,50,50/250,/22.50/default.tif", (1000, 800), "100,80,500,400/250,200/22.5/default.tif"),
    ("0,0,512,512/256,/0/default.jpg", (6000, 4000), "0,0,512,512/256,256/0/default.jpg"),
    ("full/^2000,/0/default.jpg", (1000, 800), "full/^2000,1600/0/default.jpg"),
    ("full/^max/0/default.jpg", (20000, 4000), "full/max/0/default.jpg"),
])
def test_canonical_forms(params: str, size: tuple[int, int], canonical: str) -> None:
    region, size_text, rotation, last = params.split("/")
    quality, fmt = last.split(".")
    assert resolve_request(region, size_text, rotation, quality, fmt, *size).canonical == canonical


# Pieces requests are made of, so random ones are often nearly valid rather than mere noise.
_PIECES = st.sampled_from(["", "0", "1", "99", "100", "1000", "99999999999999999999", ",", ".", "!", "^", "pct:",
                           "max", "full", "square", "-", "NaN", "inf", "e", "%", "..", "/", " ", "\x00", "٣", "\u202e"])
_PARAMETER = st.one_of(st.lists(_PIECES, max_size=8).map("".join), st.text(max_size=40))


@settings(max_examples=400, deadline=None)
@given(region=_PARAMETER, size=_PARAMETER, rotation=_PARAMETER, quality=st.sampled_from([*iiif.QUALITIES, "x"]),
       fmt=st.sampled_from([*iiif.FORMATS, "jp2", "x"]), width=st.integers(1, 30000), height=st.integers(1, 30000))
def test_any_parameters_give_a_request_or_a_400_or_501(region: str, size: str, rotation: str, quality: str,
                                                       fmt: str, width: int, height: int) -> None:
    try:
        request = resolve_request(region, size, rotation, quality, fmt, width, height)
    except IiifRequestError as exc:
        assert exc.status in (400, 501)
        return
    x, y, w, h = request.region
    assert 0 <= x < width and 0 <= y < height and 1 <= w <= width - x and 1 <= h <= height - y
    out_w, out_h = request.size
    assert 1 <= out_w <= DEFAULT_LIMITS.max_width and 1 <= out_h <= DEFAULT_LIMITS.max_height
    assert out_w * out_h <= DEFAULT_LIMITS.max_area
    if not size.startswith("^"):
        assert out_w <= w and out_h <= h
    rendition_path(Path("/cache"), SHA, request)   # always a safe file name
    # The canonical form is itself a valid request for the same thing.
    c_region, c_size, c_rotation, last = request.canonical.split("/")
    c_quality, c_format = last.rsplit(".", 1)
    again = resolve_request(c_region, c_size, c_rotation, c_quality, c_format, width, height)
    assert again == request


def test_syntax_errors_come_before_unimplemented_formats_and_image_checks() -> None:
    assert _status(resolve_request, "junk", "max", "0", "default", "jp2", 100, 100) == 400
    assert _status(resolve_request, "full", "max", "0", "default", "jp2", 100, 100) == 501
    assert _status(resolve_request, "500,500,1,1", "max", "0", "default", "jpeg", 100, 100) == 400
    assert _status(resolve_request, "500,500,1,1", "max", "0", "default", "jpg", 100, 100) == 400


def test_a_rotation_whose_bounding_box_exceeds_the_limits_is_400() -> None:
    assert _status(resolve_request, "full", "max", "45", "default", "jpg", 7000, 7000) == 400
    assert resolve_request("full", "max", "90", "default", "jpg", 7000, 7000).size == (7000, 7000)


# ----- info.json ----------------------------------------------------------------------------


def test_info_document_describes_a_level_2_service() -> None:
    info = info_document("https://example.org/iiif/3/" + SHA, 6000, 4000)
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["id"] == "https://example.org/iiif/3/" + SHA
    assert (info["type"], info["protocol"], info["profile"]) == ("ImageService3", "http://iiif.io/api/image", "level2")
    assert (info["width"], info["height"]) == (6000, 4000)
    assert (info["maxWidth"], info["maxHeight"], info["maxArea"]) == (16383, 16383, 50_000_000)
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8, 16]}]
    sizes = [(s["width"], s["height"]) for s in info["sizes"]]
    assert sizes == sorted(sizes) and sizes[-1] == (6000, 4000) and max(sizes[0]) <= 64
    assert (750, 500) in sizes
    assert set(info["extraQualities"]) == {"gray", "bitonal"}
    assert {"webp", "png", "tif", "gif"} <= set(info["extraFormats"])
    for feature in ("mirroring", "regionByPct", "regionSquare", "rotationArbitrary", "sizeUpscaling",
                    "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh", "rotationBy90s",
                    "baseUriRedirect", "cors", "jsonldMediaType", "profileLinkHeader", "canonicalLinkHeader"):
        assert feature in info["extraFeatures"]
    # Every size listed can be asked for as w,h.
    for width, height in sizes:
        resolve_request("full", f"{width},{height}", "0", "default", "jpg", 6000, 4000)


def test_info_lists_only_sizes_within_the_limits_and_handles_tiny_images() -> None:
    huge = info_document("https://example.org/x", 20000, 4000)
    assert all(s["width"] <= 16383 for s in huge["sizes"])
    assert huge["sizes"][-1] == {"width": 10000, "height": 2000}
    tiny = info_document("https://example.org/x", 1, 1)
    assert tiny["sizes"] == [{"width": 1, "height": 1}] and tiny["tiles"][0]["scaleFactors"] == [1]
    strip = info_document("https://example.org/x", 5000, 3)
    assert strip["sizes"][0]["height"] >= 1


# ----- rendering ----------------------------------------------------------------------------


QUADRANTS = {(0, 0): (200, 30, 30), (1, 0): (30, 200, 30), (0, 1): (30, 30, 200), (1, 1): (230, 230, 30)}


def _quadrants(path: Path, size: tuple[int, int] = (400, 200), fmt: str = "PNG", **save: object) -> Path:
    """Write an image of four flat colours (top-left red, top-right green, bottom blue/yellow)."""
    image = Image.new("RGB", size)
    half_w, half_h = size[0] // 2, size[1] // 2
    for (qx, qy), colour in QUADRANTS.items():
        image.paste(colour, (qx * half_w, qy * half_h, (qx + 1) * half_w, (qy + 1) * half_h))
    image.save(path, fmt, **save)
    return path


def _request(params: str, size: tuple[int, int]) -> ImageRequest:
    region, size_text, rotation, last = params.split("/")
    quality, fmt = last.split(".")
    return resolve_request(region, size_text, rotation, quality, fmt, *size)


def _colour_at(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.convert("RGB").getpixel(xy)
    assert isinstance(value, tuple)
    return value


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_region_size_mirror_and_rotation_put_pixels_where_the_spec_says(tmp_path: Path) -> None:
    original = _quadrants(tmp_path / "q.png")
    size = (400, 200)
    top_right = render(original, "PNG", _request("200,0,200,100/max/0/default.png", size), *size)
    assert top_right.size == (200, 100) and _close(_colour_at(top_right, (100, 50)), QUADRANTS[(1, 0)])
    mirrored = render(original, "PNG", _request("full/200,100/!0/default.png", size), *size)
    assert _close(_colour_at(mirrored, (10, 10)), QUADRANTS[(1, 0)])
    turned = render(original, "PNG", _request("full/max/90/default.png", size), *size)
    # Clockwise: the bottom-left (blue) corner comes to the top left.
    assert turned.size == (200, 400) and _close(_colour_at(turned, (10, 10)), QUADRANTS[(0, 1)])
    upside = render(original, "PNG", _request("full/max/!180/default.png", size), *size)
    assert _close(_colour_at(upside, (10, 10)), QUADRANTS[(0, 1)])
    distorted = render(original, "PNG", _request("full/^800,100/0/default.png", size), *size)
    assert distorted.size == (800, 100)


def test_arbitrary_rotation_fills_corners_transparent_or_white(tmp_path: Path) -> None:
    original = _quadrants(tmp_path / "q.png", (300, 300))
    png = render(original, "PNG", _request("full/max/45/default.png", (300, 300)), 300, 300)
    assert png.mode == "RGBA" and abs(png.width - 425) <= 2
    assert png.getpixel((1, 1)) == (0, 0, 0, 0)
    jpg = render(original, "PNG", _request("full/max/45/default.jpg", (300, 300)), 300, 300)
    assert jpg.mode == "RGB" and _close(_colour_at(jpg, (1, 1)), (255, 255, 255))


def test_qualities(tmp_path: Path) -> None:
    original = _quadrants(tmp_path / "q.png")
    gray = render(original, "PNG", _request("full/max/0/gray.png", (400, 200)), 400, 200)
    assert gray.mode == "L"
    bitonal = render(original, "PNG", _request("full/max/0/bitonal.png", (400, 200)), 400, 200)
    assert bitonal.mode == "1" and {value for _, value in bitonal.convert("L").getcolors() or []} <= {0, 255}
    colour = render(original, "PNG", _request("full/max/0/color.png", (400, 200)), 400, 200)
    assert colour.mode == "RGB"


def test_transparency_is_kept_where_the_format_has_it_and_flattened_on_white_elsewhere(tmp_path: Path) -> None:
    original = DATA / "transparent.webp"
    with Image.open(original) as opened:
        width, height = opened.size
    for fmt, modes in (("png", {"RGBA"}), ("webp", {"RGBA"}), ("jpg", {"RGB"}), ("gif", {"RGB"})):
        image = render(original, "WEBP", _request(f"full/max/0/default.{fmt}", (width, height)), width, height)
        assert image.mode in modes, fmt
    gray = render(original, "WEBP", _request("full/max/0/gray.png", (width, height)), width, height)
    assert gray.mode == "LA"


def test_every_format_quality_and_turn_encodes_without_metadata(tmp_path: Path) -> None:
    magic = {"jpg": b"\xff\xd8\xff", "png": b"\x89PNG", "webp": b"RIFF", "tif": b"II*\x00", "gif": b"GIF8"}
    sources = [(_quadrants(tmp_path / "q.png"), "PNG", (400, 200)), (DATA / "transparent.webp", "WEBP", (200, 150))]
    for original, original_format, size in sources:
        for fmt in iiif.FORMATS:
            for quality in iiif.QUALITIES:
                for rotation in ("0", "!90", "22.5"):
                    request = _request(f"full/max/{rotation}/{quality}.{fmt}", size)
                    out = io.BytesIO()
                    iiif.encode(render(original, original_format, request, *size), fmt, out)
                    data = out.getvalue()
                    assert data.startswith(magic[fmt]), (fmt, quality)
                    with Image.open(io.BytesIO(data)) as decoded:
                        decoded.load()
                        expected = size[::-1] if rotation == "!90" else size
                        assert rotation == "22.5" or decoded.size == expected
                        assert "icc_profile" not in decoded.info
                        exif = decoded.getexif()
                        # A TIFF's own structure is stored as tags; nothing beyond it may appear.
                        assert not exif if fmt != "tif" else ExifTags.Base.Make not in exif
                        assert ExifTags.IFD.GPSInfo not in exif and ExifTags.IFD.Exif not in exif


def _jpeg_with_gps_and_orientation(path: Path, orientation: int) -> Path:
    """Write a quadrant JPEG carrying GPS coordinates and an EXIF orientation."""
    _quadrants(path.with_suffix(".png"), (400, 200))
    with Image.open(path.with_suffix(".png")) as opened:
        image = opened.convert("RGB")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Secret camera"
    gps = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (22.0, 16.0, 45.0),
           ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (114.0, 9.0, 30.0)}
    exif[ExifTags.IFD.GPSInfo] = gps
    image.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    return path


def test_exif_orientation_applies_and_gps_never_leaves(tmp_path: Path) -> None:
    path = _jpeg_with_gps_and_orientation(tmp_path / "gps.jpg", orientation=6)
    with Image.open(path) as carrier:
        assert carrier.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file does carry GPS
    stored = ingest_image(path.read_bytes(), tmp_path / "originals")
    assert (stored.width, stored.height) == (200, 400)  # displayed turned a quarter
    request = _request("full/max/0/default.jpg", (200, 400))
    rendered = ensure_rendition(stored.path, stored.format, tmp_path / "derivatives", stored.sha256, request,
                                stored.width, stored.height)
    data = rendered.read_bytes()
    assert b"Exif" not in data and b"Secret camera" not in data
    with Image.open(rendered) as served:
        assert served.size == (200, 400) and not served.getexif()
        reference = open_for_display(stored.path)
        difference = ImageStat.Stat(ImageChops.difference(served.convert("RGB"), reference)).mean
        assert max(difference) < 4


def test_jpeg_is_decoded_at_the_largest_draft_scale_not_above_the_scale_factor(tmp_path: Path) -> None:
    path = _quadrants(tmp_path / "big.jpg", (4000, 3000), "JPEG", quality=90)
    iiif.clear_decoded_cache()
    request = _request("0,0,2048,2048/512,/0/default.jpg", (4000, 3000))   # scale factor 4
    tile = render(path, "JPEG", request, 4000, 3000)
    assert tile.size == (512, 512)
    entries = [e for e in iiif.decoded_cache_entries() if e[0] == str(path)]
    assert [(reduction, size) for _, reduction, size in entries] == [(4, (1000, 750))]
    reference = open_for_display(path).crop((0, 0, 2048, 2048)).resize((512, 512), Image.Resampling.LANCZOS)
    assert max(ImageStat.Stat(ImageChops.difference(tile, reference)).mean) < 3
    # A 3x reduction decodes at 1/2, the largest draft scale not above 3; full size at 1/1.
    render(path, "JPEG", _request("0,0,1536,1536/512,/0/default.jpg", (4000, 3000)), 4000, 3000)
    render(path, "JPEG", _request("100,100,512,512/max/0/default.jpg", (4000, 3000)), 4000, 3000)
    reductions = {reduction for original, reduction, _ in iiif.decoded_cache_entries() if original == str(path)}
    assert reductions == {1, 2, 4}


@pytest.mark.parametrize("name", ["hibiscus.regular.cmyk.jpg", "basn0g16.png", "basn4a16.png",
                                  "hopper_orientation_3.jpg", "cmx3g8_wv_1998.260_0745_mcidas.tiff"])
def test_iiif_images_match_what_the_site_shows(name: str, tmp_path: Path) -> None:
    stored = ingest_image((DATA / name).read_bytes(), tmp_path / "originals", filename=name)
    reference = open_for_display(stored.path)
    assert reference.size == (stored.width, stored.height)
    request = _request("full/max/0/default.png", (stored.width, stored.height))
    shown = render(stored.path, stored.format, request, stored.width, stored.height)
    assert shown.size == reference.size and shown.mode == reference.mode
    assert max(ImageStat.Stat(ImageChops.difference(shown, reference)).mean) < 1


def _swapped_primaries_profile() -> bytes:
    """Return an sRGB profile whose red and blue primaries are swapped: a very different RGB space."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(data[128:132], "big")
    entries = {bytes(data[132 + 12 * n:136 + 12 * n]): 132 + 12 * n for n in range(count)}
    red, blue = entries[b"rXYZ"], entries[b"bXYZ"]
    data[red + 4:red + 12], data[blue + 4:blue + 12] = data[blue + 4:blue + 12], data[red + 4:red + 12]
    return bytes(data)


def test_an_icc_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    path = tmp_path / "tagged.jpg"
    Image.new("RGB", (64, 48), (220, 20, 20)).save(path, "JPEG", quality=95, icc_profile=_swapped_primaries_profile())
    stored = ingest_image(path.read_bytes(), tmp_path / "originals")
    shown = render(stored.path, stored.format, _request("full/max/0/default.png", (64, 48)), 64, 48)
    red, green, blue = _colour_at(shown, (32, 24))
    # The file's "red" is the profile's blue primary, so the site shows blue, and so must IIIF.
    assert blue > red + 50, (red, green, blue)
    assert max(ImageStat.Stat(ImageChops.difference(shown, open_for_display(stored.path))).mean) < 1


def test_renditions_are_cached_under_canonical_names(tmp_path: Path) -> None:
    original = _quadrants(tmp_path / "q.png")
    request = _request("pct:0,0,50,50/!100,100/!22.5/gray.webp", (400, 200))
    path = rendition_path(tmp_path / "d", SHA, request)
    assert path == tmp_path / "d" / "iiif" / f"v{iiif.RENDER_VERSION}" / "ab" / SHA / "0,0,200,100" / "100,50" \
        / "!22.5" / "gray.webp"
    made = ensure_rendition(original, "PNG", tmp_path / "d", SHA, request, 400, 200)
    assert made == path and path.is_file()
    first_mtime = path.stat().st_mtime_ns
    assert ensure_rendition(original, "PNG", tmp_path / "d", SHA, request, 400, 200) == path
    assert path.stat().st_mtime_ns == first_mtime   # served from the cache, not rendered again
    with pytest.raises(ValueError, match="SHA-256"):
        rendition_path(tmp_path / "d", "../../etc", request)
    assert iiif.etag(SHA, request) == iiif.etag(SHA, _request("pct:0,0,50,50/100,/!22.50/gray.webp", (400, 200)))
    assert iiif.etag(SHA, request) != iiif.etag(SHA, _request("full/max/0/gray.webp", (400, 200)))


def test_concurrent_renders_of_one_tile_never_corrupt_it(tmp_path: Path) -> None:
    original = _quadrants(tmp_path / "big.jpg", (3000, 2000), "JPEG", quality=90)
    request = _request("512,512,512,512/max/0/default.png", (3000, 2000))
    iiif.clear_decoded_cache()
    results: list[Path] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        try:
            start.wait()
            results.append(ensure_rendition(original, "JPEG", tmp_path / "d", SHA, request, 3000, 2000))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1
    with Image.open(results[0]) as tile:
        tile.load()
        assert tile.size == (512, 512)
    leftovers = [p.name for p in results[0].parent.iterdir() if p.name != results[0].name]
    assert leftovers == []


def test_degrees_are_exact_fractions() -> None:
    assert parse_rotation("22.5").degrees == Fraction(45, 2)
    assert DEFAULT_LIMITS.max_area == 50_000_000
