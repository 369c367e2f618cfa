"""Unit tests for image ingest, display decoding and derivatives, over real sample files."""

from __future__ import annotations

import hashlib
import io
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, ImageStat

from museum.images.derivatives import (
    DERIVATIVE_FORMATS,
    DERIVATIVE_SIZES,
    UnknownDerivative,
    derivative_path,
    ensure_derivative,
    make_derivatives,
)
from museum.images.ingest import (
    ImageRejected,
    StoredOriginal,
    ingest_image,
    open_for_display,
    original_path,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "images"


@dataclass(frozen=True)
class Accepted:
    """A sample file that must be accepted, and how it must look once displayed."""

    format: str
    size: tuple[int, int]
    mode: str


@dataclass(frozen=True)
class Refused:
    """A sample file that must be refused, with a fragment of the reason."""

    reason: str


EXPECTED: dict[str, Accepted | Refused] = {
    "app13-multiple.jpg": Accepted("JPEG", (256, 160), "RGB"),
    "basn0g16.png": Accepted("PNG", (32, 32), "RGB"),
    "basn4a16.png": Accepted("PNG", (32, 32), "RGBA"),
    "bentheim.jpg": Accepted("JPEG", (3000, 2279), "RGB"),
    "cmx3g8_wv_1998.260_0745_mcidas.tiff": Accepted("TIFF", (1800, 400), "RGB"),
    # A 100x100 GIF whose second frame claims 4.3 billion pixels.
    "decompression_bomb_extents.gif": Refused("decompression bomb"),
    "flower2.jpg": Accepted("JPEG", (300, 225), "RGB"),
    # 3 pages of 3307x4677 = 46 million pixels in all: far below every limit, so accepted
    # even though it packs them into 3 KB (G4 fax compression is legitimately that good).
    "g4-multi.tiff": Accepted("TIFF", (3307, 4677), "RGB"),
    "harvesters.jpeg": Accepted("JPEG", (1165, 859), "RGB"),
    "hibiscus.regular.cmyk.jpg": Accepted("JPEG", (312, 442), "RGB"),
    "hibiscus.regular.jpeg": Accepted("JPEG", (312, 442), "RGB"),
    "hibiscus.regular.png": Accepted("PNG", (312, 442), "RGB"),
    "hibiscus.regular.tiff": Accepted("TIFF", (312, 442), "RGB"),
    "hippopotamus.interlaced.png": Accepted("PNG", (36, 28), "RGB"),
    "hippopotamus.regular.truncated.png": Refused("truncated"),
    "hopper_orientation_3.jpg": Accepted("JPEG", (128, 128), "RGB"),
    "mona-lisa.21x32.q50.jpeg": Accepted("JPEG", (21, 32), "RGB"),
    "tiff_tiled_cmyk_jpeg.tif": Accepted("TIFF", (100, 100), "RGB"),
    "transparent.webp": Accepted("WEBP", (200, 150), "RGBA"),
    "truncated_jpeg.jpg": Refused("truncated"),
    "uncompressed_la.png": Accepted("PNG", (128, 128), "RGBA"),
}

MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}


def sample_names() -> list[str]:
    """Return every sample image file name, whether or not it has an expectation."""
    return sorted(path.name for path in DATA.iterdir() if path.name != "SOURCES.txt")


def ingest_sample(name: str, originals: Path) -> StoredOriginal:
    """Ingest one sample file by name."""
    return ingest_image((DATA / name).read_bytes(), originals, filename=name)


def jpeg_bytes(image: Image.Image, **params: object) -> bytes:
    """Return image encoded as a JPEG."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **params)
    return buffer.getvalue()


def test_every_sample_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sample_names()


@pytest.mark.parametrize("name", sample_names())
def test_sample_is_accepted_or_refused_as_expected(name: str, tmp_path: Path) -> None:
    expected = EXPECTED[name]
    data = (DATA / name).read_bytes()
    if isinstance(expected, Refused):
        with pytest.raises(ImageRejected) as refusal:
            ingest_image(data, tmp_path / "originals", filename=name)
        assert expected.reason in refusal.value.reason
        assert str(refusal.value).startswith(f"{name}: ")
        assert not any(path.is_file() for path in tmp_path.rglob("*"))
        return
    stored = ingest_image(data, tmp_path / "originals", filename=name)
    assert stored.format == expected.format
    assert stored.mime_type == MIME_TYPES[expected.format]
    assert (stored.width, stored.height) == expected.size
    assert stored.byte_size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.path == original_path(tmp_path / "originals", stored.sha256, stored.format)
    assert stored.path.read_bytes() == data
    displayed = open_for_display(stored.path)
    assert displayed.size == expected.size
    assert displayed.mode == expected.mode
    assert displayed.info == {}


def test_orientation_3_is_displayed_rotated_half_a_turn(tmp_path: Path) -> None:
    stored = ingest_sample("hopper_orientation_3.jpg", tmp_path)
    with Image.open(DATA / "hopper_orientation_3.jpg") as raw_file:
        raw = raw_file.convert("RGB")
    displayed = open_for_display(stored.path)
    width, height = raw.size
    for x, y in [(0, 0), (width - 1, 0), (0, height - 1), (5, 17)]:
        assert displayed.getpixel((x, y)) == raw.getpixel((width - 1 - x, height - 1 - y))
    assert displayed.tobytes() != raw.tobytes()


def test_orientation_swaps_reported_dimensions(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = jpeg_bytes(Image.new("RGB", (40, 10), "red"), exif=exif)
    stored = ingest_image(data, tmp_path)
    assert (stored.width, stored.height) == (10, 40)
    assert open_for_display(stored.path).size == (10, 40)


def test_cmyk_jpeg_displays_with_the_colours_of_the_rgb_original(tmp_path: Path) -> None:
    cmyk = open_for_display(ingest_sample("hibiscus.regular.cmyk.jpg", tmp_path).path)
    rgb = open_for_display(ingest_sample("hibiscus.regular.jpeg", tmp_path).path)
    assert cmyk.mode == "RGB"
    for cmyk_mean, rgb_mean in zip(
        ImageStat.Stat(cmyk).mean, ImageStat.Stat(rgb).mean, strict=True
    ):
        assert abs(cmyk_mean - rgb_mean) < 8


def test_cmyk_tiff_displays_red_letters_on_black(tmp_path: Path) -> None:
    displayed = open_for_display(ingest_sample("tiff_tiled_cmyk_jpeg.tif", tmp_path).path)
    assert displayed.mode == "RGB"
    pixels = list(displayed.get_flattened_data())
    red = [p for p in pixels if isinstance(p, tuple) and p[0] > 150 and max(p[1], p[2]) < 80]
    dark = [p for p in pixels if isinstance(p, tuple) and max(p) < 40]
    assert len(red) > 500
    assert len(dark) > len(pixels) // 2


def test_icc_tagged_jpeg_is_converted_without_colour_shift(tmp_path: Path) -> None:
    # flower2.jpg carries an sRGB profile, so converting it must leave colours as they are.
    stored = ingest_sample("flower2.jpg", tmp_path)
    with Image.open(stored.path) as raw_file:
        assert raw_file.info.get("icc_profile")
        raw_mean = ImageStat.Stat(raw_file.convert("RGB")).mean
    displayed_mean = ImageStat.Stat(open_for_display(stored.path)).mean
    for displayed_channel, raw_channel in zip(displayed_mean, raw_mean, strict=True):
        assert abs(displayed_channel - raw_channel) < 3


def test_broken_icc_profile_falls_back_to_plain_pixels(tmp_path: Path) -> None:
    data = jpeg_bytes(Image.new("RGB", (20, 20), (200, 100, 50)), icc_profile=b"not a profile")
    displayed = open_for_display(ingest_image(data, tmp_path).path)
    red, green, blue = ImageStat.Stat(displayed).mean
    assert abs(red - 200) < 4 and abs(green - 100) < 4 and abs(blue - 50) < 4


@pytest.mark.parametrize("name", ["basn0g16.png", "cmx3g8_wv_1998.260_0745_mcidas.tiff"])
def test_sixteen_bit_grey_is_scaled_not_clipped(name: str, tmp_path: Path) -> None:
    displayed = open_for_display(ingest_sample(name, tmp_path).path)
    low, high = displayed.convert("L").getextrema()
    assert isinstance(low, int) and isinstance(high, int)
    assert (low, high) not in [(0, 0), (255, 255)]
    assert high - low > 30
    assert ImageStat.Stat(displayed).stddev[0] > 5


def test_sixteen_bit_full_range_maps_onto_full_eight_bit_range(tmp_path: Path) -> None:
    # basn0g16.png is a gradient over the whole 0-65535 range.
    displayed = open_for_display(ingest_sample("basn0g16.png", tmp_path).path)
    assert displayed.convert("L").getextrema() == (0, 255)


def test_palette_with_transparency_displays_as_rgba(tmp_path: Path) -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    displayed = open_for_display(ingest_image(buffer.getvalue(), tmp_path).path)
    assert displayed.mode == "RGBA"
    assert displayed.getpixel((0, 0)) == (0, 0, 0, 0)
    assert displayed.getpixel((1, 1)) == (255, 0, 0, 255)


def test_gif_is_accepted_and_shows_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (30, 20), colour) for colour in ("blue", "yellow")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    stored = ingest_image(buffer.getvalue(), tmp_path)
    assert (stored.format, stored.mime_type, stored.width, stored.height) == (
        "GIF",
        "image/gif",
        30,
        20,
    )
    displayed = open_for_display(stored.path)
    assert displayed.mode == "RGB"
    assert displayed.getpixel((5, 5)) == (0, 0, 255)


def test_cielab_tiff_displays_with_its_real_colours(tmp_path: Path) -> None:
    srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
    brick = Image.new("RGB", (8, 8), (200, 30, 40))
    as_lab = ImageCms.profileToProfile(brick, srgb, lab, outputMode="LAB")
    assert as_lab is not None
    buffer = io.BytesIO()
    as_lab.save(buffer, "TIFF")
    displayed = open_for_display(ingest_image(buffer.getvalue(), tmp_path).path)
    pixel = displayed.getpixel((0, 0))
    assert isinstance(pixel, tuple)
    assert all(abs(got - want) <= 3 for got, want in zip(pixel, (200, 30, 40), strict=True))


def test_camera_mpo_jpeg_is_stored_as_jpeg(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    main, preview = Image.new("RGB", (64, 48), "navy"), Image.new("RGB", (16, 12), "navy")
    main.save(buffer, "MPO", save_all=True, append_images=[preview])
    with Image.open(io.BytesIO(buffer.getvalue())) as sniffed:
        assert sniffed.format == "MPO"
    stored = ingest_image(buffer.getvalue(), tmp_path)
    assert (stored.format, stored.mime_type, stored.path.suffix) == ("JPEG", "image/jpeg", ".jpg")
    assert open_for_display(stored.path).size == (64, 48)


def test_text_with_an_image_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageRejected) as refusal:
        ingest_image(b"Harvest festival report\n", tmp_path, filename="harvesters.txt")
    assert str(refusal.value) == "harvesters.txt: not an image (no known image format)"
    assert refusal.value.filename == "harvesters.txt"
    with pytest.raises(ImageRejected, match="not an image"):
        ingest_image(b"just words, despite the name", tmp_path, filename="painting.jpg")
    assert not tmp_path.joinpath("ab").exists()
    assert list(tmp_path.iterdir()) == []


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageRejected, match="empty file"):
        ingest_image(b"", tmp_path, filename="empty.jpg")


def test_file_over_the_byte_limit_is_refused(tmp_path: Path) -> None:
    data = (DATA / "hibiscus.regular.jpeg").read_bytes()
    with pytest.raises(ImageRejected, match="file too large"):
        ingest_image(data, tmp_path, max_bytes=len(data) - 1)
    assert ingest_image(data, tmp_path, max_bytes=len(data)).byte_size == len(data)


def test_image_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    data = (DATA / "hibiscus.regular.png").read_bytes()
    with pytest.raises(ImageRejected, match="too many pixels"):
        ingest_image(data, tmp_path, max_pixels=312 * 442 - 1)
    assert ingest_image(data, tmp_path, max_pixels=312 * 442).width == 312


def test_pixel_limit_counts_every_frame(tmp_path: Path) -> None:
    data = (DATA / "g4-multi.tiff").read_bytes()
    page = 3307 * 4677
    with pytest.raises(ImageRejected, match="all frames together"):
        ingest_image(data, tmp_path, max_pixels=2 * page)
    assert ingest_image(data, tmp_path, max_pixels=3 * page).height == 4677


def test_whatever_pillow_calls_a_bomb_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    with pytest.raises(ImageRejected, match="decompression bomb"):
        ingest_sample("bentheim.jpg", tmp_path)


def test_unsupported_format_is_named(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "BMP")
    with pytest.raises(ImageRejected, match="unsupported image format BMP"):
        ingest_image(buffer.getvalue(), tmp_path)


def test_damaged_file_of_a_known_kind_is_called_damaged(tmp_path: Path) -> None:
    with pytest.raises(ImageRejected, match="damaged image"):
        ingest_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, tmp_path)


def test_cut_short_jpeg_is_refused_as_truncated(tmp_path: Path) -> None:
    data = (DATA / "harvesters.jpeg").read_bytes()
    with pytest.raises(ImageRejected, match="truncated"):
        ingest_image(data[: len(data) // 2], tmp_path)


def test_storing_the_same_bytes_twice_is_idempotent(tmp_path: Path) -> None:
    first = ingest_sample("mona-lisa.21x32.q50.jpeg", tmp_path)
    modified = first.path.stat().st_mtime_ns
    second = ingest_sample("mona-lisa.21x32.q50.jpeg", tmp_path)
    assert second == first
    assert first.path.stat().st_mtime_ns == modified
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == [first.path]


def test_damaged_stored_copy_is_replaced_on_reingest(tmp_path: Path) -> None:
    first = ingest_sample("mona-lisa.21x32.q50.jpeg", tmp_path)
    first.path.write_bytes(b"bit rot")
    ingest_sample("mona-lisa.21x32.q50.jpeg", tmp_path)
    assert first.path.read_bytes() == (DATA / "mona-lisa.21x32.q50.jpeg").read_bytes()


def test_original_bytes_are_stored_untouched(tmp_path: Path) -> None:
    # harvesters.jpeg has no orientation, hopper has one: neither may be rewritten.
    for name in ["harvesters.jpeg", "hopper_orientation_3.jpg", "flower2.jpg"]:
        data = (DATA / name).read_bytes()
        stored = ingest_sample(name, tmp_path)
        assert hashlib.sha256(stored.path.read_bytes()).hexdigest() == stored.sha256
        assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_original_path_layout(tmp_path: Path) -> None:
    digest = "ab" + "cd" + "0" * 60
    assert original_path(tmp_path, digest, "JPEG") == tmp_path / "ab" / "cd" / f"{digest}.jpg"
    assert original_path(tmp_path, digest, "TIFF").name == f"{digest}.tif"
    with pytest.raises(ValueError):
        original_path(tmp_path, "../../etc/passwd", "JPEG")
    with pytest.raises(ValueError):
        original_path(tmp_path, digest, "BMP")


def test_rejection_message_and_attributes() -> None:
    refusal = ImageRejected("empty file", "a.png")
    assert (refusal.reason, refusal.filename, str(refusal)) == (
        "empty file",
        "a.png",
        "a.png: empty file",
    )
    assert str(ImageRejected("empty file")) == "empty file"
    copied = pickle.loads(pickle.dumps(refusal))  # noqa: S301 - our own bytes, just made
    assert (copied.reason, copied.filename, str(copied)) == ("empty file", "a.png", str(refusal))


def test_derivative_path_layout_and_unknown_names(tmp_path: Path) -> None:
    digest = "ab" + "1" * 62
    assert derivative_path(tmp_path, digest, "thumb", "jpeg") == (
        tmp_path / "thumb" / "ab" / f"{digest}.jpg"
    )
    assert derivative_path(tmp_path, digest, "large", "webp").suffix == ".webp"
    for size, fmt, sha in [("huge", "jpeg", digest), ("thumb", "png", digest)]:
        with pytest.raises(UnknownDerivative):
            derivative_path(tmp_path, sha, size, fmt)
    with pytest.raises(UnknownDerivative):
        derivative_path(tmp_path, "../" + digest[3:], "thumb", "jpeg")


def test_derivatives_have_the_right_longest_edge(tmp_path: Path) -> None:
    stored = ingest_sample("bentheim.jpg", tmp_path / "originals")
    paths = make_derivatives(stored.path, tmp_path / "derivatives", stored.sha256)
    assert len(paths) == len(DERIVATIVE_SIZES) * len(DERIVATIVE_FORMATS)
    for size, edge in DERIVATIVE_SIZES.items():
        for fmt, mime in DERIVATIVE_FORMATS.items():
            path = derivative_path(tmp_path / "derivatives", stored.sha256, size, fmt)
            assert path in paths
            with Image.open(path) as derivative:
                assert Image.MIME[str(derivative.format)] == mime
                width, height = derivative.size
                assert max(width, height) == edge
                assert abs(width / height - 3000 / 2279) < 0.01


def test_derivatives_are_never_upscaled(tmp_path: Path) -> None:
    stored = ingest_sample("hippopotamus.interlaced.png", tmp_path / "originals")
    for path in make_derivatives(stored.path, tmp_path / "derivatives", stored.sha256):
        with Image.open(path) as derivative:
            assert derivative.size == (36, 28)


def test_derivatives_follow_exif_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    data = jpeg_bytes(Image.new("RGB", (800, 400), "green"), exif=exif)
    stored = ingest_image(data, tmp_path / "originals")
    path = ensure_derivative(stored.path, tmp_path / "derivatives", stored.sha256, "thumb", "jpeg")
    with Image.open(path) as derivative:
        assert derivative.size == (160, 320)


def test_transparent_webp_keeps_alpha_in_webp_and_is_flattened_in_jpeg(tmp_path: Path) -> None:
    stored = ingest_sample("transparent.webp", tmp_path / "originals")
    make_derivatives(stored.path, tmp_path / "derivatives", stored.sha256)
    original = open_for_display(stored.path)
    alpha = original.getchannel("A")
    clear = next((x, y) for y in range(150) for x in range(200) if alpha.getpixel((x, y)) == 0)
    webp = derivative_path(tmp_path / "derivatives", stored.sha256, "thumb", "webp")
    with Image.open(webp) as derivative:
        assert derivative.mode == "RGBA"
        low, _ = derivative.getchannel("A").getextrema()
        assert isinstance(low, int) and low < 255
    jpeg = derivative_path(tmp_path / "derivatives", stored.sha256, "thumb", "jpeg")
    with Image.open(jpeg) as derivative:
        assert derivative.mode == "RGB"
        pixel = derivative.getpixel(clear)
        assert isinstance(pixel, tuple) and min(pixel) > 240


def test_gps_and_all_exif_are_stripped_from_derivatives(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Museum camera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (22.0, 16.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (114.0, 10.0, 15.0)
    data = jpeg_bytes(Image.new("RGB", (600, 400), (90, 120, 150)), exif=exif)
    with Image.open(io.BytesIO(data)) as source:
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    stored = ingest_image(data, tmp_path / "originals")
    assert stored.path.read_bytes() == data
    paths = make_derivatives(stored.path, tmp_path / "derivatives", stored.sha256)
    for path in paths:
        with Image.open(path) as derivative:
            assert "exif" not in derivative.info
            assert not derivative.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert len(derivative.getexif()) == 0
        assert b"Museum camera" not in path.read_bytes()


def test_ensure_derivative_renders_once_and_reuses_the_file(tmp_path: Path) -> None:
    stored = ingest_sample("harvesters.jpeg", tmp_path / "originals")
    path = ensure_derivative(stored.path, tmp_path / "derivatives", stored.sha256, "medium", "webp")
    assert path == derivative_path(tmp_path / "derivatives", stored.sha256, "medium", "webp")
    modified = path.stat().st_mtime_ns
    again = ensure_derivative(
        stored.path, tmp_path / "derivatives", stored.sha256, "medium", "webp"
    )
    assert again == path and path.stat().st_mtime_ns == modified
    with Image.open(path) as derivative:
        assert derivative.size == (1024, 755)


def test_ensure_derivative_refuses_unknown_names(tmp_path: Path) -> None:
    stored = ingest_sample("mona-lisa.21x32.q50.jpeg", tmp_path / "originals")
    with pytest.raises(UnknownDerivative):
        ensure_derivative(stored.path, tmp_path / "derivatives", stored.sha256, "poster", "jpeg")


def test_concurrent_renders_of_one_derivative_leave_a_valid_file(tmp_path: Path) -> None:
    stored = ingest_sample("bentheim.jpg", tmp_path / "originals")
    derivatives = tmp_path / "derivatives"

    def render(_: int) -> Path:
        return ensure_derivative(stored.path, derivatives, stored.sha256, "large", "jpeg")

    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = set(pool.map(render, range(16)))
    assert len(paths) == 1
    path = paths.pop()
    with Image.open(path) as derivative:
        derivative.verify()
    with Image.open(path) as derivative:
        derivative.load()
        assert derivative.size == (2048, 1556)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_concurrent_ingest_of_one_file_stores_it_once(tmp_path: Path) -> None:
    data = (DATA / "harvesters.jpeg").read_bytes()

    def ingest(_: int) -> StoredOriginal:
        return ingest_image(data, tmp_path)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = set(pool.map(ingest, range(12)))
    assert len(results) == 1
    stored = results.pop()
    assert stored.path.read_bytes() == data
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [stored.path]


@pytest.mark.parametrize(("needed_edge", "decoded"), [
    (5621 // 2, (2811, 2135)),   # the scales IIIF tiles ask for: exactly 1/2, 1/4 and 1/8
    (5621 // 4, (1406, 1068)),
    (5621 // 8, (703, 534)),
    (1024, (1406, 1068)),        # the medium derivative: the coarsest scale still >= 1024
    (1407, (2811, 2135)),        # one pixel more than 1/4 gives: 1/2
    (5000, (5621, 4270)),        # nothing coarser is big enough: full size
])
def test_jpeg_originals_decode_at_the_coarsest_scale_that_is_big_enough(
        tmp_path: Path, needed_edge: int, decoded: tuple[int, int]) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (5621, 4270), (120, 90, 60)).save(path, "JPEG", quality=80)
    image = open_for_display(path, needed_edge=needed_edge)
    assert image.size == decoded
    assert max(image.size) >= needed_edge
