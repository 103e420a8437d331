"""The hub's channels, one module each: a channel adds its own routes to the hub's application.

Light on purpose (aiohttp only for type checking), so that the engine can import modules from this
package later without pulling in the hub.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from aiohttp import web


class UnknownChannel(ValueError):
    """A channel name that no module in channels/ provides."""


@runtime_checkable
class Channel(Protocol):
    """The contract: a channel has a name and adds its routes to the hub."""

    name: str

    def add_routes(self, app: web.Application) -> None:
        """Register this channel's routes on the hub's application."""


def load_channels(names: Iterable[str]) -> list[Channel]:
    """Import channels/<name>.py for each name and return the `channel` object each module exposes."""
    loaded: list[Channel] = []
    for name in names:
        module = _import_channel_module(name)
        channel = getattr(module, "channel", None)
        if not isinstance(channel, Channel) or channel.name != name:
            raise UnknownChannel(
                f"channels/{name}.py has no `channel` object named {name!r} with add_routes(app): "
                "define one at the end of the module"
            )
        loaded.append(channel)
    return loaded


def _import_channel_module(name: str) -> object:
    available = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    if name not in available:
        raise UnknownChannel(f"no channel {name!r}: choose from {', '.join(available)} (modules in channels/)")
    return importlib.import_module(f"{__name__}.{name}")
