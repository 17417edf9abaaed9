"""Draw web/static/img/og-default.png: the 1200×630 picture a shared link shows when its
object has no photo of its own (the Open Graph large-card size).

Run from the repository root: ``.venv/bin/python scripts/make_og_image.py``. The PNG is
committed, so the app never draws it at run time.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "web" / "static" / "img" / "og-default.png"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

WIDTH, HEIGHT = 1200, 630
GREEN = (31, 122, 77)
DEEP_GREEN = (20, 92, 57)
LEAF = (120, 190, 120)
WHITE = (255, 255, 255)
MIST = (214, 236, 220)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's built-in font has no Chinese glyphs; it only keeps the script usable elsewhere.
    if CJK_FONT.exists():
        return ImageFont.truetype(str(CJK_FONT), size)
    return ImageFont.load_default(size)


def centred(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill: tuple[int, int, int]) -> int:
    """Draw ``text`` centred at height ``y``; answer the y below it."""
    face = font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    draw.text(((WIDTH - (right - left)) // 2 - left, y - top), text, font=face, fill=fill)
    return y + (bottom - top)


def draw() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), GREEN)
    canvas = ImageDraw.Draw(image)
    # Two soft hills along the bottom: a neighbourhood, not a logo.
    canvas.ellipse((-200, 470, 700, 1000), fill=DEEP_GREEN)
    canvas.ellipse((500, 500, 1500, 1100), fill=DEEP_GREEN)
    canvas.ellipse((1010, 60, 1110, 160), fill=LEAF)
    y = centred(canvas, 120, "五共", 200, WHITE)
    y = centred(canvas, y + 50, "美好环境与幸福生活共同缔造", 54, WHITE)
    centred(canvas, y + 36, "共谋 · 共建 · 共管 · 共评 · 共享", 36, MIST)
    return image


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT, "PNG", optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
