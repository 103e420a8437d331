"""Run the hub: `python -m bot.hub`, configured by environment variables (see settings.py)."""

from __future__ import annotations

import logging
import os
import sys

from aiohttp import web

from bot.city import CityError, load_city
from bot.hub.app import create_app
from bot.hub.settings import HubSettings, SettingsError


def main() -> int:
    """Read the settings, print where the hub listens and serve until interrupted."""
    # Log lines carry conversation ids and sizes only; no module logs what a resident typed.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = HubSettings.from_env(os.environ)
        city = load_city()
    except (SettingsError, CityError) as error:
        print(f"hub: {error}", file=sys.stderr)
        return 2
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"hub: http://{host}:{settings.port}/ (engine at {settings.engine_url})", flush=True)
    web.run_app(create_app(settings, city), host=settings.host, port=settings.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
