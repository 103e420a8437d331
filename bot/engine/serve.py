"""Runs the engine: Rasa's HTTP server with the hub channel, the token taken from the environment.

``python -m bot.engine.serve --port 5005 --model models`` in the engine environment, with ENGINE_TOKEN set.
``rasa run --auth-token …`` would put the token on the command line, where any local user reads it with ``ps``;
here it is read from ENGINE_TOKEN and removed from the environment before Rasa (or anything it starts) runs.
Rasa's logging is set up as ``rasa run`` sets it up, plus one step that blanks resident text in Rasa's
structured log events.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

TOKEN_VARIABLE = "ENGINE_TOKEN"
# Keys under which Rasa's structured log events carry what a resident typed or what was derived from it
# (Rasa's own list for its anonymisation plug-in, which Rasa Open Source does not ship).
RESIDENT_TEXT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
    }
)
REMOVED = "[removed]"


class ServeError(ValueError):
    """The engine's settings cannot be used; the message names the setting and the fix."""


def take_token(environ: MutableMapping[str, str]) -> str:
    """Remove ENGINE_TOKEN from the environment and return it, so nothing started later inherits it."""
    token = environ.pop(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ServeError(f"{TOKEN_VARIABLE} is not set: set it to the token the hub uses (bot/launcher.py does)")
    return token


def check_settings(args: argparse.Namespace) -> None:
    """Fail before loading Rasa when an argument cannot work, naming the fix."""
    try:
        address = ipaddress.ip_address(args.interface)
    except ValueError:
        address = None
    # Engines on several hosts (deploy/README.md) listen on the private network the hub reaches them by, and
    # only when asked to; never on a public or wildcard address.
    private = getattr(args, "private_network", False) and address is not None and address.is_private
    if address is None or not (address.is_loopback or (private and not address.is_unspecified)):
        raise ServeError(
            f"--interface is {args.interface!r}: the engine listens on loopback only; use 127.0.0.1 "
            "(the hub is the public entry point), or a private address with --private-network when the hub "
            "runs on another host"
        )
    if not 1 <= args.port <= 65535:
        raise ServeError(f"--port is {args.port}: use a port number from 1 to 65535, such as 5005")
    for option, path in (("--endpoints", args.endpoints), ("--credentials", args.credentials)):
        if not path.is_file():
            raise ServeError(f"{option} {path} does not exist: give the path of the file (see the repository root)")
    model: Path = args.model
    if not (model.is_file() or (model.is_dir() and any(model.glob("*.tar.gz")))):
        raise ServeError(f"--model {model}: no trained model there; run `make model`")


def without_resident_text(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor that blanks the fields of an event that can hold what a resident typed."""
    for key in RESIDENT_TEXT_KEYS.intersection(event_dict):
        event_dict[key] = REMOVED
    return event_dict


def configure_logging() -> None:
    """Set up logging as `rasa run` does (LOG_LEVEL, INFO by default), without resident text in events."""
    import structlog
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.io import configure_colored_logging
    from rasa.utils.log_utils import configure_structlog
    from rasa.utils.tensorflow import environment

    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    log_level = logging.getLogger("rasa").level
    environment.setup_tf_environment()
    configure_colored_logging(logging.getLevelName(log_level))
    configure_structlog(log_level)
    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[without_resident_text, *processors])


def main(argv: list[str] | None = None) -> int:
    """Check the settings, take the token out of the environment and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interface", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--model", type=Path, default=Path("models"))
    parser.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    parser.add_argument("--credentials", type=Path, default=Path("credentials.yml"))
    parser.add_argument(
        "--private-network",
        action="store_true",
        help="allow a private (RFC 1918 / ULA) --interface, for a hub on another host",
    )
    args = parser.parse_args(argv)
    try:
        token = take_token(os.environ)
        check_settings(args)
    except ServeError as error:
        print(f"engine: {error}", file=sys.stderr)
        return 2
    configure_logging()
    from bot.engine.patches import apply_all

    apply_all()
    import rasa.api

    rasa.api.run(
        model=str(args.model),
        endpoints=str(args.endpoints),
        credentials=str(args.credentials),
        enable_api=True,
        auth_token=token,
        interface=args.interface,
        port=args.port,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
