"""Console maintenance: `python -m bot.console create-admin <name>` makes the first admin account.

The password is read from a prompt (or, when stdin is not a terminal, from its first line): never from the
command line, where it would stay in the shell's history and the process list. DATA_DIR picks the data folder.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from bot.console.passwords import WeakPassword
from bot.console.settings import ConsoleSettings
from bot.console.store import AccountExists, ConsoleStore


def main(argv: list[str] | None = None) -> int:
    """Run one console command."""
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account (password from a prompt or stdin)")
    create.add_argument("name")
    args = parser.parse_args(argv)
    settings = ConsoleSettings(data_dir=Path(os.environ.get("DATA_DIR", "").strip() or "var"))
    password = read_password()
    store = ConsoleStore.open(settings.database_path)
    try:
        store.create_account(args.name, "admin", password, actor="cli")
    except (AccountExists, WeakPassword, ValueError) as error:
        print(f"console: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"console: admin {args.name.strip()} created in {settings.database_path}")
    return 0


def read_password() -> str:
    """Ask twice on a terminal; otherwise read one line from stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        print("console: the two passwords differ", file=sys.stderr)
        raise SystemExit(2)
    return first


if __name__ == "__main__":
    sys.exit(main())
