"""`python -m channels.line rich-menu`: create the LINE rich menu from the LINE_* settings in the environment.

`--image-out menu.png` also writes the image for review; `--image-only` writes it and calls nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from channels import ChannelOff, ChannelSettingsError
from channels.line.api import LineApiError
from channels.line.rich_menu import FontMissing, install_rich_menu, menu_image
from channels.line.settings import LineSettings


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on success, 2 for settings, 1 when LINE refused."""
    parser = argparse.ArgumentParser(prog="python -m channels.line", description=__doc__)
    parser.add_argument("command", choices=["rich-menu"])
    parser.add_argument("--image-out", type=Path, help="also write the menu image (PNG) here")
    parser.add_argument("--image-only", action="store_true", help="only write the image; call nothing")
    parser.add_argument("--no-default", action="store_true", help="create the menu without making it the default")
    args = parser.parse_args(argv)
    try:
        if args.image_out or args.image_only:
            path = args.image_out or Path("rich-menu.png")
            path.write_bytes(menu_image())
            print(f"rich menu image written to {path}")
            if args.image_only:
                return 0
        settings = LineSettings.from_env(os.environ)
        menu_id = asyncio.run(install_rich_menu(settings, make_default=not args.no_default))
    except (ChannelOff, ChannelSettingsError, FontMissing) as error:
        print(f"rich-menu: {error}", file=sys.stderr)
        return 2
    except LineApiError as error:
        print(f"rich-menu: LINE refused: {error}", file=sys.stderr)
        return 1
    default = "" if args.no_default else " and made it the default"
    print(f"created rich menu {menu_id}{default}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
