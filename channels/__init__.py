"""The hub's channels, one module each: thin two-way adapters between a platform and the conversation core.

A channel module defines `create(env) -> Channel`, which reads and checks the channel's settings from the
environment. It raises `ChannelOff` when the channel's secrets are simply not there (the hub starts
without it and says so in one line) and `ChannelSettingsError` when a value is there but wrong (the hub
refuses to start). Inbound, a channel adds its routes and hands each message to the core
(`request.app[CORE].handle(...)`). Outbound, a channel that can push (LINE, a WebSocket) also implements
`deliver`; the outbox calls it with messages written earlier, and retries when it raises `DeliveryFailed`.
A channel never touches a store or the engine.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from aiohttp import web

    from bot.hub.messages import BotMessage
    from bot.hub.store import Conversation


class UnknownChannel(ValueError):
    """A channel name that no module in channels/ provides."""


class ChannelOff(Exception):
    """The channel's settings are absent: it stays off. The text names what to set to switch it on."""


class ChannelSettingsError(ValueError):
    """A channel setting is present but unusable. The text names the variable and the fix."""


class DeliveryFailed(Exception):
    """A push did not reach the platform; `retry` is False when trying again cannot help."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry


@runtime_checkable
class Channel(Protocol):
    """Every channel: a name and its inbound routes."""

    name: str

    def add_routes(self, app: web.Application) -> None:
        """Register this channel's routes on the hub's application."""


@runtime_checkable
class PushChannel(Channel, Protocol):
    """A channel that can send to a resident who did not just write (staff replies, late answers)."""

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """Send the messages, in order; raise DeliveryFailed when they did not arrive."""


@dataclass(frozen=True)
class ChannelChoice:
    """The channels the hub serves, and those left off with the reason."""

    on: list[Channel]
    off: dict[str, str]


def load_channels(names: Iterable[str], env: Mapping[str, str]) -> ChannelChoice:
    """Import channels/<name>.py for each name and create its channel from the environment."""
    on: list[Channel] = []
    off: dict[str, str] = {}
    for name in names:
        module = _import_channel_module(name)
        create = getattr(module, "create", None)
        if not callable(create):
            raise UnknownChannel(f"channels/{name}.py has no create(env) function: define one that returns the channel")
        try:
            channel = create(env)
        except ChannelOff as reason:
            off[name] = str(reason)
            continue
        if not isinstance(channel, Channel) or channel.name != name:
            raise UnknownChannel(
                f"channels/{name}.py: create(env) must return a channel named {name!r} with add_routes"
            )
        on.append(channel)
    return ChannelChoice(on, off)


def available_channels() -> list[str]:
    """The channel modules in this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _import_channel_module(name: str) -> object:
    available = available_channels()
    if name not in available:
        raise UnknownChannel(f"no channel {name!r}: choose from {', '.join(available)} (modules in channels/)")
    return importlib.import_module(f"{__name__}.{name}")
