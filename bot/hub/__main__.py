"""Run the hub: `python -m bot.hub`, configured by environment variables (see settings.py).

`python -m bot.hub purge` deletes conversations idle past the retention period (RETENTION_DAYS) and exits;
the running hub also does it at start-up and once a day. `python -m bot.hub backup FILE` copies the hub's
database (conversations, transcript, outbox, tickets) to FILE, consistently, also while the hub runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from bot.city import CityError, load_city
from bot.hub.app import create_app
from bot.hub.keys import CHANNELS
from bot.hub.settings import HubSettings, SettingsError
from bot.hub.store import ConversationStore
from channels import ChannelSettingsError, UnknownChannel


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted, or run one maintenance command."""
    parser = argparse.ArgumentParser(prog="python -m bot.hub", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["serve", "purge", "backup"], default="serve")
    parser.add_argument("target", nargs="?", type=Path, help="backup: the file to write (it must not exist yet)")
    args = parser.parse_args(argv)
    if (args.command == "backup") != (args.target is not None):
        parser.error("backup needs the file to write, and only backup takes one: python -m bot.hub backup FILE")
    # Log lines carry conversation ids and sizes only; no module logs what a resident typed.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = HubSettings.from_env(os.environ)
        if args.command == "purge":
            return purge(settings)
        if args.command == "backup":
            return backup(settings, args.target)
        city = load_city()
        app = create_app(settings, city, os.environ)
    except (SettingsError, CityError, ChannelSettingsError, UnknownChannel) as error:
        print(f"hub: {error}", file=sys.stderr)
        return 2
    choice = app[CHANNELS]
    for name, reason in choice.off.items():
        print(f"hub: channel {name} is off: {reason}", flush=True)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    on = ", ".join(channel.name for channel in choice.on) or "none"
    print(f"hub: http://{host}:{settings.port}/ (channels: {on}; engine at {settings.engine_url})", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


def purge(settings: HubSettings) -> int:
    """Delete conversations idle for longer than the retention period, with their transcripts."""
    store = ConversationStore.open(settings.database_path)
    try:
        removed = store.purge(timedelta(days=settings.retention_days))
    finally:
        store.close()
    print(f"purged {removed} conversations idle for more than {settings.retention_days} days")
    return 0


def backup(settings: HubSettings, target: Path) -> int:
    """Copy the hub's database with SQLite's online backup, so a running hub's writes never tear the copy."""
    source = settings.database_path
    if not source.exists():
        print(f"hub: there is no database at {source} to back up (check DATA_DIR)", file=sys.stderr)
        return 2
    if target.exists():
        print(f"hub: {target} exists already: choose a new file name", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(source, timeout=5)) as live:
        with contextlib.closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
    target.chmod(0o600)
    print(f"backed up {source} to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
