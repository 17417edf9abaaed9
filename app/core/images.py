"""Photos from phones, made safe to publish: checked by content, bounded, stripped, resized.

Plain functions on bytes with no I/O, so they run in a worker thread and are tested directly.
What a file *is* comes from decoding it, never from its name or declared content type.
Nothing of the original file survives but its pixels: EXIF (with GPS), XMP, comments and
colour profiles are dropped (colours are first converted to sRGB so they still look right).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageCms, ImageOps

from app.core.errors import Invalid

log = logging.getLogger("wugong.images")

# Formats phones and chat apps produce; each is recognised by its magic bytes. Everything
# else (SVG, TIFF, BMP, HEIC, PDF, ...) is refused: fewer decoders, smaller attack surface.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    image: EncodedImage
    thumb: EncodedImage


def not_an_image() -> Invalid:
    return Invalid("upload_not_image")


def too_many_pixels(max_pixels: int) -> Invalid:
    return Invalid("upload_too_many_pixels", megapixels=max_pixels // 1_000_000)


def process_image(data: bytes, *, max_pixels: int, max_decoded_pixels: int, max_side: int,
                  thumb_side: int) -> ProcessedImage:
    """Decode ``data`` and answer a clean, bounded image and its thumbnail (raises ``Invalid``)."""
    picture = decode(data, max_pixels=max_pixels, max_decoded_pixels=max_decoded_pixels, draft_side=max_side)
    picture = upright(picture)
    picture = to_srgb(picture)
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    thumb = picture.copy()
    thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.LANCZOS)
    return ProcessedImage(image=encode(picture, quality=85), thumb=encode(thumb, quality=80))


def decode(data: bytes, *, max_pixels: int, max_decoded_pixels: int | None = None,
           draft_side: int | None = None) -> Image.Image:
    """Open, verify and load the first frame, refusing anything that is not a sane image.

    What decoding costs is known from the header before a single pixel is decoded, and bounded
    twice: width × height at most ``max_pixels`` (a phone's largest photo), and the pixels really
    decoded at most ``max_decoded_pixels`` — a JPEG's after its decoder scales it down by 1/2 to 1/8
    towards ``draft_side``, which no other format can. So a 116 KB PNG of 6300×6300 (1.4 s and
    370 MB to decode and shrink) is refused for nothing, and a 50 MP phone photo costs what a
    12 MP one does. Pillow's own bomb guard, set to the same limit, is turned into the same refusal.
    """
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow refuses twice this in open() (and warns above it)
    try:
        with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            _check_pixels(probe.size, max_pixels)
            probe.verify()  # structure and checksums, without decoding pixels
        picture = Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
        if draft_side and picture.format == "JPEG":
            # Let the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding, as far as the
            # largest image we keep allows (a panorama as far as its long side does).
            picture.draft(picture.mode, fit(picture.size, draft_side))
        if max_decoded_pixels:
            _check_pixels(picture.size, max_decoded_pixels)
        picture.load()
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_many_pixels(max_pixels) from exc
    except Exception as exc:  # any failure to decode untrusted bytes means "not an image"
        log.info("refused an upload that does not decode: %s: %s", type(exc).__name__, exc)
        raise not_an_image() from exc
    return picture


def fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` shrunk, keeping its shape, to fit a ``side``×``side`` square (never enlarged)."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise not_an_image()
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels)


def upright(picture: Image.Image) -> Image.Image:
    """Apply the EXIF orientation to the pixels, since the EXIF that carried it is dropped."""
    try:
        ImageOps.exif_transpose(picture, in_place=True)  # in place: no copy of an upright photo
    except Exception:  # a broken EXIF block costs the rotation, not the photo
        log.info("ignored an unreadable EXIF orientation")
    return picture


def has_alpha(picture: Image.Image) -> bool:
    """True when some pixel is actually see-through (an opaque RGBA screenshot is not)."""
    if not picture.has_transparency_data:
        return False
    if picture.mode in ("RGBA", "LA"):  # read the alpha band where it is, not from a copy
        low, _ = picture.getextrema()[-1]  # type: ignore[misc]
    else:
        low, _ = picture.convert("RGBA").getchannel("A").getextrema()
    return isinstance(low, int) and low < 255


def to_srgb(picture: Image.Image) -> Image.Image:
    """RGB or RGBA in sRGB: the one colour form every phone browser shows the same way."""
    mode = "RGBA" if has_alpha(picture) else "RGB"
    icc = picture.info.get("icc_profile")
    if icc and picture.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(picture, source, srgb, outputMode=mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            log.info("ignored an unusable colour profile")
    return picture if picture.mode == mode else picture.convert(mode)  # no copy of a large photo for nothing


def encode(picture: Image.Image, *, quality: int) -> EncodedImage:
    """JPEG, or PNG when there is transparency (PNG, not WebP: older WeChat on iOS lacks WebP)."""
    picture.info = {}  # nothing rides along: no comment, profile or EXIF from the source
    out = BytesIO()
    if picture.mode == "RGBA":
        picture.save(out, "PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        picture.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        content_type, extension = "image/jpeg", "jpg"
    return EncodedImage(data=out.getvalue(), content_type=content_type, extension=extension,
                        width=picture.width, height=picture.height)
