"""The rich menu under the chat: 「手続きをはじめる」「人と話す」「使い方」, with its image drawn here, offline.

`python -m channels.line rich-menu` creates it on LINE (or on LINE_API_BASE_URL), uploads the image and makes it
the default for every resident. Its buttons send postbacks that the channel maps (see inbound.MENU_TEXT).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.line.api import LineApi
from channels.line.settings import LineSettings

WIDTH, HEIGHT = 2500, 843
# Bold Japanese fonts, from Debian's fonts-noto-cjk first (requirements/debian.txt).
FONT_PATHS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKjp-Bold.otf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)
# Dark text on light panels: contrast well above 7:1 for readers with low vision.
INK = (20, 33, 61)
PANELS = ((255, 240, 200), (214, 236, 255), (222, 245, 222))
EDGE = (20, 33, 61)


@dataclass(frozen=True)
class MenuButton:
    """One area of the menu: its words and the postback it sends."""

    label: str
    data: str
    drawn: str  # the words on the image, on lines that fit large


BUTTONS = (
    MenuButton("手続きをはじめる", "menu.start", "手続きを\nはじめる"),
    MenuButton("人と話す", "menu.person", "人と話す"),
    MenuButton("使い方", "menu.help", "使い方"),
)


class FontMissing(RuntimeError):
    """No Japanese font to draw the menu's words with."""


def menu_request() -> dict[str, Any]:
    """The rich menu object LINE's POST /v2/bot/richmenu takes."""
    width = WIDTH // len(BUTTONS)
    areas = []
    for index, button in enumerate(BUTTONS):
        x = index * width
        w = WIDTH - x if index == len(BUTTONS) - 1 else width
        action = {"type": "postback", "label": button.label, "data": button.data, "displayText": button.label}
        areas.append({"bounds": {"x": x, "y": 0, "width": w, "height": HEIGHT}, "action": action})
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": "mynaguide main menu",
        "chatBarText": "メニュー",
        "areas": areas,
    }


def menu_image() -> bytes:
    """The menu's PNG: three panels with large words, drawn from a local font (no network)."""
    from PIL import Image, ImageDraw, ImageFont  # only this command needs Pillow

    font_path = next((path for path in FONT_PATHS if path.exists()), None)
    if font_path is None:
        raise FontMissing(
            "no Japanese font found: install Debian's fonts-noto-cjk (make install does), "
            f"or put a bold Japanese font at {FONT_PATHS[0]}"
        )
    image = Image.new("RGB", (WIDTH, HEIGHT), EDGE)
    draw = ImageDraw.Draw(image)
    width = WIDTH // len(BUTTONS)
    for index, button in enumerate(BUTTONS):
        left = index * width
        right = WIDTH if index == len(BUTTONS) - 1 else left + width
        draw.rectangle((left + 8, 8, right - 8, HEIGHT - 8), fill=PANELS[index])
        size = 170
        font = ImageFont.truetype(str(font_path), size)
        # Shrink the words until every line fits the panel with a margin.
        while max(draw.textlength(line, font=font) for line in button.drawn.splitlines()) > right - left - 160:
            size -= 6
            font = ImageFont.truetype(str(font_path), size)
        middle = ((left + right) / 2, HEIGHT / 2)
        draw.multiline_text(middle, button.drawn, font=font, fill=INK, anchor="mm", align="center", spacing=30)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def install_rich_menu(settings: LineSettings, *, make_default: bool = True) -> str:
    """Create the menu, upload its image and make it every resident's default; return its id."""
    image = menu_image()
    api = LineApi(settings)
    await api.open()
    try:
        menu_id = await api.create_rich_menu(menu_request())
        await api.upload_rich_menu_image(menu_id, image)
        if make_default:
            await api.set_default_rich_menu(menu_id)
    finally:
        await api.close()
    return menu_id
