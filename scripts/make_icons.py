#!/usr/bin/env python3
"""Draw the app icons (web/static/icons/*.png): 五共 in white on a green rounded square.

    .venv/bin/python scripts/make_icons.py

The PNGs are committed; run this again only when the design changes. "any" icons have rounded
corners on a transparent background; "maskable" ones fill the square and keep the text inside
the central 80 % safe zone, because launchers crop them to their own shape.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "web" / "static" / "icons"
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
GREEN = (23, 120, 74, 255)  # --c-primary in tokens.css
WHITE = (255, 255, 255, 255)
TEXT = "五共"
SCALE = 4  # draw large and shrink, for smooth edges


def draw_icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=GREEN)
        text_width = big * 0.56
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=GREEN)
        text_width = big * 0.72
    font = _font_for_width(text_width)
    stroke = round(big * 0.012)  # the only CJK font at hand has one weight: thicken it
    left, top, right, bottom = draw.textbbox((0, 0), TEXT, font=font, stroke_width=stroke)
    x = (big - (right - left)) / 2 - left
    y = (big - (bottom - top)) / 2 - top
    draw.text((x, y), TEXT, font=font, fill=WHITE, stroke_width=stroke, stroke_fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _font_for_width(width: float) -> ImageFont.FreeTypeFont:
    if not FONT.exists():
        raise SystemExit(f"{FONT} is missing: install fonts-wqy-microhei")
    probe = ImageFont.truetype(str(FONT), 100)
    left, _, right, _ = probe.getbbox(TEXT)
    return ImageFont.truetype(str(FONT), round(100 * width / (right - left)))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw_icon(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
        draw_icon(size, maskable=True).save(OUT / f"maskable-{size}.png", optimize=True)
    # The top bar's mark (28 px, up to 3.4 device pixels each) and the favicon, both one file, so
    # a page fetches it once; 64 colours keep it near 1 KB.
    mark = draw_icon(96, maskable=False).quantize(64, method=Image.Quantize.FASTOCTREE)
    mark.save(OUT / "icon-96.png", optimize=True)
    # iOS puts its own mask on the home-screen icon and shows transparency as black.
    draw_icon(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    print(f"icons written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
