"""Uploads: a phone's photo goes in, a clean, bounded image and thumbnail come out."""

from __future__ import annotations

import asyncio
import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from PIL import Image
from sqlalchemy import func, select

from app.core import ratelimit
from app.core.config import get_settings
from app.core.i18n import t
from app.core.models import Upload
from app.core.storage import LocalStorage, check_key
from tests import factories as f
from tests.factories import assert_problem

GPS = {1: "N", 2: (39.0, 54.0, 20.0), 3: "E", 4: (116.0, 23.0, 30.0)}  # a spot in Beijing


def jpeg_with_gps(size: tuple[int, int] = (640, 480), orientation: int = 1) -> bytes:
    """A photo as a phone writes it: camera make, orientation and GPS position in EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "WugongPhoneMaker"  # Make
    exif[0x0112] = orientation
    exif[0x8825] = GPS  # GPSInfo IFD
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def image_bytes(image: Image.Image, fmt: str, **kw: object) -> bytes:
    out = BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG that is a few kilobytes on disk and ``width×height`` pixels decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


async def post_file(client, c, person, data: bytes, filename: str = "photo.jpg",
                    content_type: str = "image/jpeg", lang: str = "zh-CN"):
    return await client.post(f"/api/v1/communities/{c.id}/uploads", headers=f.auth(person, lang),
                             files={"file": (filename, data, content_type)})


async def fetch_image(client, url: str) -> tuple[bytes, Image.Image]:
    r = await client.get(url)
    assert r.status_code == 200, url
    return r.content, Image.open(BytesIO(r.content))


async def count_uploads(session) -> int:
    return (await session.execute(select(func.count()).select_from(Upload))).scalar_one()


def stored_files(community_id: str) -> list[Path]:
    folder = get_settings().media_dir / community_id
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def test_photo_with_gps_is_stored_without_any_exif(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    original = jpeg_with_gps()
    assert Image.open(BytesIO(original)).getexif().get_ifd(0x8825)  # the input really carries GPS

    r = await post_file(client, c, resident, original)

    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "url", "thumb_url", "width", "height", "content_type"}
    assert body["content_type"] == "image/jpeg" and (body["width"], body["height"]) == (640, 480)
    assert body["url"].startswith("http://testserver/media/") and body["thumb_url"].startswith("http://")
    for url in (body["url"], body["thumb_url"]):
        raw, image = await fetch_image(client, url)
        assert image.format == "JPEG"
        assert not image.getexif(), url
        assert not image.getexif().get_ifd(0x8825)
        assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
        assert b"Exif" not in raw and b"WugongPhoneMaker" not in raw


async def test_exif_orientation_is_applied_to_the_pixels(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    # Orientation 6: the sensor's landscape frame is shown turned 90° (a portrait photo).
    r = await post_file(client, c, resident, jpeg_with_gps((640, 480), orientation=6))
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (480, 640)
    _, stored = await fetch_image(client, r.json()["url"])
    assert stored.size == (480, 640)


async def test_large_photo_is_resized_and_thumbnailed(client, session):
    settings = get_settings()
    c = await f.community(session)
    resident = await f.member(session, c)
    r = await post_file(client, c, resident, jpeg_with_gps((3000, 1500)))
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (settings.image_max_side, settings.image_max_side // 2)
    _, thumb = await fetch_image(client, r.json()["thumb_url"])
    assert max(thumb.size) == settings.thumb_side


async def test_png_with_transparency_stays_png_with_alpha(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    logo = Image.new("RGBA", (300, 200), (30, 120, 70, 0))
    logo.paste((30, 120, 70, 255), (50, 50, 250, 150))

    r = await post_file(client, c, resident, image_bytes(logo, "PNG"), "logo.png", "image/png")

    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png"
    for url in (r.json()["url"], r.json()["thumb_url"]):
        _, stored = await fetch_image(client, url)
        assert stored.format == "PNG" and stored.mode == "RGBA"
        assert stored.getchannel("A").getextrema() == (0, 255)


async def test_opaque_png_screenshot_is_stored_as_jpeg(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    screenshot = image_bytes(Image.new("RGBA", (300, 600), (200, 200, 200, 255)), "PNG")
    r = await post_file(client, c, resident, screenshot, "screen.png", "image/png")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/jpeg"


async def test_webp_and_first_frame_of_a_gif_are_accepted(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    frames = [Image.new("RGB", (120, 80), colour) for colour in ("red", "blue")]
    gif = BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    webp = image_bytes(Image.new("RGB", (90, 60), "green"), "WEBP")

    r_gif = await post_file(client, c, resident, gif.getvalue(), "wave.gif", "image/gif")
    r_webp = await post_file(client, c, resident, webp, "leaf.webp", "image/webp")

    assert r_gif.status_code == 201, r_gif.text
    assert (r_gif.json()["width"], r_gif.json()["height"]) == (120, 80)
    _, first = await fetch_image(client, r_gif.json()["url"])
    red, _, blue = first.convert("RGB").getpixel((60, 40))  # type: ignore[misc]
    assert red > 200 and blue < 60
    assert r_webp.status_code == 201 and r_webp.json()["content_type"] == "image/jpeg"


@pytest.mark.parametrize(("data", "filename", "content_type"), [
    (b"just some notes about the broken lamp\n", "photo.jpg", "image/jpeg"),  # text renamed .jpg
    (b"\xff\xd8\xff\xe0" + b"\x00not really a jpeg" * 50, "photo.jpg", "image/jpeg"),  # magic bytes only
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg", "image/svg+xml"),
    (image_bytes(Image.new("RGB", (40, 40)), "BMP"), "old.bmp", "image/bmp"),
    (image_bytes(Image.new("RGB", (40, 40)), "TIFF"), "scan.tiff", "image/tiff"),
    (b"", "empty.jpg", "image/jpeg"),
])
async def test_anything_that_is_not_a_supported_image_is_refused(client, session, data, filename, content_type):
    c = await f.community(session)
    resident = await f.member(session, c)
    r = await post_file(client, c, resident, data, filename, content_type)
    assert_problem(r, 422, "upload_not_image")
    assert await count_uploads(session) == 0 and stored_files(c.id) == []


async def test_truncated_photo_is_refused(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    noisy = image_bytes(Image.effect_noise((400, 400), 60).convert("RGB"), "JPEG")
    assert_problem(await post_file(client, c, resident, noisy[: len(noisy) // 2]), 422, "upload_not_image")


async def test_refusal_is_in_the_callers_language(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    zh = assert_problem(await post_file(client, c, resident, b"hello"), 422, "upload_not_image")
    en = assert_problem(await post_file(client, c, resident, b"hello", lang="en"), 422, "upload_not_image")
    assert zh["detail"] == t("error.upload_not_image", "zh-CN")
    assert en["detail"] == t("error.upload_not_image", "en")
    assert en["detail"].startswith("This is not an image")


async def test_file_over_the_size_limit_is_413(client, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_max_bytes", 2000)
    c = await f.community(session)
    resident = await f.member(session, c)
    photo = jpeg_with_gps((400, 300))
    assert 2000 < len(photo) < 2000 + 64 * 1024  # inside the multipart allowance: the field read refuses

    body = assert_problem(await post_file(client, c, resident, photo, lang="en"), 413, "upload_too_large")

    assert "at most 1 MB" in body["detail"]
    assert await count_uploads(session) == 0 and stored_files(c.id) == []


async def test_streamed_body_over_the_limit_is_cut_off_while_it_arrives(client, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_max_bytes", 2000)
    c = await f.community(session)
    resident = await f.member(session, c)
    payload = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n" + b"\xff" * 300_000 + b"\r\n--b0undary--\r\n")
    sent = 0

    async def chunks():  # no Content-Length: the cap must hold while the body streams in
        nonlocal sent
        for start in range(0, len(payload), 8192):
            sent += 1
            yield payload[start:start + 8192]

    r = await client.post(f"/api/v1/communities/{c.id}/uploads", content=chunks(),
                          headers={**f.auth(resident), "Content-Type": "multipart/form-data; boundary=b0undary"})
    assert_problem(r, 413, "upload_too_large")
    assert sent < len(payload) // 8192 // 2  # refused long before the rest was sent


async def test_declared_length_over_the_limit_is_refused_before_reading(client, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_max_bytes", 2000)
    c = await f.community(session)
    resident = await f.member(session, c)
    r = await post_file(client, c, resident, b"\xff" * 200_000)
    assert_problem(r, 413, "upload_too_large")


def png_undecodable(width: int, height: int) -> bytes:
    """A PNG whose header says ``width×height`` and whose pixel data is not even zlib: whatever
    decoding it starts fails, so a refusal for its size proves that nothing was decoded."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"not zlib" * 20)
            + png_chunk(b"IEND", b""))


@pytest.mark.parametrize(("size", "limit"), [
    ((20000, 20000), "50"),  # past twice the limit: Pillow's own bomb guard refuses it in open()
    ((8200, 8200), "50"),  # 67 MP: more than a 50 MP phone's photo, from the header
    ((6300, 6300), "16"),  # 40 MP: fine for a phone's JPEG, but a PNG is decoded whole
])
async def test_decompression_bomb_is_refused_and_nothing_is_stored(client, session, size, limit):
    c = await f.community(session)
    resident = await f.member(session, c)
    bomb = png_bomb(*size)
    assert len(bomb) < 200_000

    body = assert_problem(await post_file(client, c, resident, bomb, "bomb.png", "image/png", lang="en"),
                          422, "upload_too_many_pixels")

    assert f"at most {limit} megapixels" in body["detail"]
    assert await count_uploads(session) == 0 and stored_files(c.id) == []


async def test_too_many_pixels_is_refused_from_the_header_before_any_pixel_is_decoded(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    small = await post_file(client, c, resident, png_undecodable(100, 100), "a.png", "image/png")
    huge = await post_file(client, c, resident, png_undecodable(6300, 6300), "a.png", "image/png")

    assert_problem(small, 422, "upload_not_image")  # decoding it fails ...
    assert_problem(huge, 422, "upload_too_many_pixels")  # ... so this one was never decoded


async def test_a_50_megapixel_phone_photo_and_a_panorama_are_accepted(client, session):
    # JPEGs are decoded at 1/2 to 1/4 of their size: 50 MP costs what 12 MP does.
    c = await f.community(session)
    resident = await f.member(session, c)
    for size, stored in (((8192, 6144), (2048, 1536)), ((12000, 3000), (2048, 512))):
        photo = image_bytes(Image.new("L", size, 90), "JPEG", quality=60)
        r = await post_file(client, c, resident, photo)
        assert r.status_code == 201, r.text
        assert (r.json()["width"], r.json()["height"]) == stored


async def test_uploads_past_the_rate_limit_get_429_with_retry_after_and_then_go_through(client, session,
                                                                                        monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_rate_limit", "2/second;100/day")
    c = await f.community(session)
    resident = await f.member(session, c)
    neighbour = await f.member(session, c, name="王五")
    photo = image_bytes(Image.new("RGB", (40, 30), "red"), "JPEG")
    for _ in range(2):
        assert (await post_file(client, c, resident, photo)).status_code == 201

    refused = await post_file(client, c, resident, photo, lang="en")
    refused_zh = await post_file(client, c, resident, photo)

    en = assert_problem(refused, 429, "upload_rate_limited")
    assert en["detail"] == "Too many photos uploaded in a short time; try again in 1 min."
    assert assert_problem(refused_zh, 429)["detail"] == "上传照片太频繁，请 1 分钟后再试。"
    assert refused.headers["retry-after"] == "1"
    assert await count_uploads(session) == 2
    assert (await post_file(client, c, neighbour, photo)).status_code == 201  # counted per person
    await asyncio.sleep(1.1)
    assert (await post_file(client, c, resident, photo)).status_code == 201


async def test_missing_file_field_is_422(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    url = f"/api/v1/communities/{c.id}/uploads"
    wrong_field = await client.post(url, headers=f.auth(resident), files={"photo": ("a.jpg", jpeg_with_gps())})
    no_body = await client.post(url, headers=f.auth(resident, "en"))
    as_text = await client.post(url, headers=f.auth(resident), data={"file": "not a file"})

    body = assert_problem(wrong_field, 422, "upload_missing")
    assert body["errors"][0]["loc"] == ["body", "file"]
    assert assert_problem(no_body, 422, "upload_missing")["detail"] == "Choose an image to upload."
    assert_problem(as_text, 422, "upload_missing")


async def test_not_signed_in_is_401(client, session):
    c = await f.community(session)
    r = await client.post(f"/api/v1/communities/{c.id}/uploads", files={"file": ("a.jpg", jpeg_with_gps())})
    assert_problem(r, 401)


async def test_resident_of_another_community_gets_404(client, session):
    c = await f.community(session)
    other = await f.community(session, name="隔壁社区")
    outsider = await f.member(session, other)
    r = await post_file(client, c, outsider, jpeg_with_gps())
    assert_problem(r, 404, "community_not_found")
    assert await count_uploads(session) == 0


async def test_upload_is_read_back_only_in_its_own_community(client, session):
    c = await f.community(session)
    other = await f.community(session, name="隔壁社区")
    resident = await f.member(session, c)
    neighbour = await f.member(session, other, name="王五")
    created = (await post_file(client, c, resident, jpeg_with_gps())).json()

    mine = await client.get(f"/api/v1/communities/{c.id}/uploads/{created['id']}", headers=f.auth(resident))
    cross = await client.get(f"/api/v1/communities/{other.id}/uploads/{created['id']}", headers=f.auth(neighbour))
    unknown = await client.get(f"/api/v1/communities/{c.id}/uploads/01nosuchupload", headers=f.auth(resident))

    assert mine.status_code == 200 and mine.json() == created
    assert_problem(cross, 404, "upload_not_found")
    assert_problem(unknown, 404, "upload_not_found")


async def test_cover_must_be_an_upload_of_the_same_community(client, session):
    c = await f.community(session)
    other = await f.community(session, name="隔壁社区")
    committee = await f.member(session, c, "committee")
    neighbour = await f.member(session, other, "committee", name="王五")
    theirs = (await post_file(client, other, neighbour, jpeg_with_gps())).json()
    mine = (await post_file(client, c, committee, jpeg_with_gps())).json()

    refused = await client.patch(f"/api/v1/communities/{c.id}", headers=f.auth(committee),
                                 json={"cover_upload_id": theirs["id"]})
    accepted = await client.patch(f"/api/v1/communities/{c.id}", headers=f.auth(committee),
                                  json={"cover_upload_id": mine["id"]})

    f.assert_unknown_ref(refused, "upload_not_found", "cover_upload_id")
    assert accepted.status_code == 200 and accepted.json()["cover_upload_id"] == mine["id"]
    page = (await client.get(f"/api/v1/communities/{c.id}", headers=f.auth(committee))).json()
    assert page["cover_url"] == mine["url"].split("?")[0]  # a cover is public: its lasting URL


def test_storage_keys_cannot_leave_the_media_folder(tmp_path):
    storage = LocalStorage(tmp_path)
    assert check_key("c1/u1.thumb.jpg") == "c1/u1.thumb.jpg"
    for bad in ("../secret", "/etc/passwd", "c1/../../x", "c1/.hidden", "C1/U.JPG", "c1\\x", "", "c1//x"):
        with pytest.raises(ValueError):
            storage.path(bad)
    assert storage.url("c1/u1.jpg") == "/media/c1/u1.jpg"


async def test_malformed_multipart_is_a_problem_not_a_crash(client, session):
    c = await f.community(session)
    resident = await f.member(session, c)
    url = f"/api/v1/communities/{c.id}/uploads"
    no_boundary = await client.post(url, content=b"--x\r\n\r\n", headers={
        **f.auth(resident), "Content-Type": "multipart/form-data"})
    two_files = await client.post(url, headers=f.auth(resident), files=[
        ("file", ("a.jpg", jpeg_with_gps())), ("file", ("b.jpg", jpeg_with_gps()))])
    assert_problem(no_boundary, 400)
    assert_problem(two_files, 400)
    assert await count_uploads(session) == 0


async def test_an_upload_goes_through_when_the_rate_limits_redis_is_down(client, session, monkeypatch):
    down = RedisStorage("async+redis://127.0.0.1:1/0", implementation="redispy", wrap_exceptions=True)
    monkeypatch.setattr(ratelimit, "_limiter", MovingWindowRateLimiter(down))
    c = await f.community(session)
    resident = await f.member(session, c)
    r = await post_file(client, c, resident, image_bytes(Image.new("RGB", (40, 30), "red"), "JPEG"))
    assert r.status_code == 201, r.text
