"""The hub's client for the engine processes: their hub input channel (REST-shaped) and HTTP API, over loopback.

With several engines (ENGINE_URL lists them), each conversation goes to one engine picked by a consistent hash
of its id (bot/hub/engine_ring.py); an engine whose process is gone (the connection refused or cut) is passed
over and the message goes to the next one, which reads the same conversation from the shared tracker store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any

import aiohttp
from yarl import URL

from bot.hub.engine_ring import EngineRing
from bot.hub.messages import BotMessage, QuickReply

logger = logging.getLogger(__name__)


class EngineError(Exception):
    """The engine did not give a usable answer."""


class EngineUnavailable(EngineError):
    """The engine could not be reached in time, or failed with a server error."""


class EngineRefused(EngineUnavailable):
    """The engine's process is gone: it refused the connection or cut it without an answer.

    Another engine may take the message. Should the dead one have stored it before dying, the resident's own
    retry after an apology would have stored it twice as well; a slow engine (a timeout) is never passed over.
    """


class EngineMisbehaved(EngineError):
    """The engine answered, but not in a way the hub can use (a rejected request or an unreadable reply)."""


@dataclass(frozen=True)
class EngineStatus:
    """Whether the engine can answer, and which trained model it has loaded."""

    up: bool
    model_id: str | None = None
    model_file: str | None = None
    problem: str | None = None


class EngineClient:
    """Sends residents' messages to the engine and asks it how it is."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: URL | Sequence[URL],
        token: str,
        timeout: float,
        actions_url: URL | None = None,
    ) -> None:
        """`timeout` bounds every request: the core waits less and lets a late answer follow through the outbox."""
        self._session = session
        self._ring = EngineRing([base_url] if isinstance(base_url, URL) else list(base_url))
        self._actions_health_url = actions_url.joinpath("health") if actions_url is not None else None
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def engines(self) -> list[URL]:
        """The engines' base URLs, as configured."""
        return list(self._ring.engines)

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        """Pass one message to the conversation's engine (or the next one up) and return what the assistant answers."""
        body = {"sender": conversation_id, "message": text, "metadata": metadata}
        refused: EngineRefused | None = None
        for engine in self._ring.candidates(conversation_id):
            try:
                status, reply = await self._request("POST", engine.joinpath("webhooks", "hub", "webhook"), json=body)
            except EngineRefused as error:
                self._ring.refused(engine)
                refused = error
                continue
            self._ring.answered(engine)
            return _answer(status, reply)
        assert refused is not None
        raise refused

    async def status(self) -> EngineStatus:
        """Whether any engine can answer, with the model of the first that can; raises when none can be reached."""
        asked = (self._engine_status(engine) for engine in self.engines)
        results = await asyncio.gather(*asked, return_exceptions=True)
        statuses = [result for result in results if isinstance(result, EngineStatus)]
        for engine_status in statuses:
            if engine_status.up:
                return engine_status
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, EngineUnavailable):
                raise result
        if statuses:
            return statuses[0]
        assert isinstance(results[0], EngineUnavailable)
        raise results[0]

    async def engine_statuses(self) -> dict[str, EngineStatus]:
        """Each engine's own status by its base URL, asked of all at once; one out of reach is down with the reason."""

        async def one(engine: URL) -> EngineStatus:
            try:
                return await self._engine_status(engine)
            except EngineError as error:
                return EngineStatus(up=False, problem=str(error))

        engines = self.engines
        found = await asyncio.gather(*(one(engine) for engine in engines))
        return {str(engine): engine_status for engine, engine_status in zip(engines, found, strict=True)}

    async def _engine_status(self, base_url: URL) -> EngineStatus:
        """Ask one engine's HTTP API whether it is up and which model it has loaded."""
        status, reply = await self._request("GET", base_url.joinpath("status"), params={"token": self._token})
        if status == HTTPStatus.CONFLICT:
            return EngineStatus(up=False, problem="the engine has no trained model loaded")
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            raise EngineMisbehaved(
                f"the engine refused ENGINE_TOKEN (HTTP {status}): set ENGINE_TOKEN to the engine's --auth-token"
            )
        if status != HTTPStatus.OK or not isinstance(reply, dict):
            raise EngineMisbehaved(f"the engine's /status answered HTTP {status} without a status object")
        model_id, model_file = reply.get("model_id"), reply.get("model_file")
        return EngineStatus(
            up=True,
            model_id=model_id if isinstance(model_id, str) else None,
            # Only the file name: the directory it sits in is none of a visitor's business.
            model_file=PurePosixPath(model_file).name if isinstance(model_file, str) else None,
        )

    async def actions_up(self) -> bool:
        """Whether the action server (which runs the step-by-step guide) answers its health check."""
        if self._actions_health_url is None:
            return True
        try:
            status, _ = await self._request("GET", self._actions_health_url)
        except EngineError:
            return False
        return status == HTTPStatus.OK

    async def _request(self, method: str, url: URL, **kwargs: Any) -> tuple[int, Any]:
        """Make one request within the timeout; return the status and the decoded JSON body (or None).

        Each request on a fresh connection (cheap on loopback): a kept-alive one to an engine that has died
        fails half-way, and then nobody can tell whether the engine saw the message; a new one is refused
        cleanly, and the message can go to the next engine.
        """
        try:
            async with self._session.request(
                method, url, timeout=self._timeout, headers={"Connection": "close"}, **kwargs
            ) as response:
                if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                    raise EngineUnavailable(f"the engine answered HTTP {response.status}")
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, body
        except (TimeoutError, asyncio.TimeoutError) as error:
            raise EngineUnavailable(f"the engine did not answer within {self._timeout.total} seconds") from error
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as error:
            # Refused, or reset by a process killed while the connection was still in its listen queue.
            raise EngineRefused(f"the engine could not be reached ({type(error).__name__})") from error
        except aiohttp.ClientError as error:
            # The error's text may hold the URL, and the status URL holds the token: name only its type.
            raise EngineUnavailable(f"the engine could not be reached ({type(error).__name__})") from error


def as_typed_text(text: str) -> str:
    """Keep typed text from reaching Rasa as an intent command ("/intent{...}"), which only payloads may be.

    Rasa reads any message starting with "/" as an intent and entities; a full-width slash reads the same
    to a resident but not to Rasa.
    """
    stripped = text.lstrip()
    return "／" + stripped[1:] if stripped.startswith("/") else text


def _answer(status: int, reply: Any) -> list[BotMessage]:
    """The assistant's messages in the webhook's answer; raises EngineMisbehaved when it is not one."""
    if status != HTTPStatus.OK:
        raise EngineMisbehaved(f"the engine's webhook answered HTTP {status}")
    if not isinstance(reply, list):
        raise EngineMisbehaved("the engine's webhook did not answer with a list of messages")
    return [message for item in reply if (message := _bot_message(item)) is not None]


def _bot_message(item: Any) -> BotMessage | None:
    """Turn one item of Rasa's reply list into a message: text, buttons and any custom payload (a signal)."""
    if not isinstance(item, dict):
        return None
    text = item.get("text")
    quick_replies = [
        QuickReply(button["title"], button["payload"])
        for button in item.get("buttons") or []
        if isinstance(button, dict) and isinstance(button.get("title"), str) and isinstance(button.get("payload"), str)
    ]
    custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
    if not isinstance(text, str) and not quick_replies and custom is None:
        if "image" in item or "attachment" in item:
            logger.debug("skipped an engine message with no text, buttons or custom payload: %s", sorted(item))
        return None
    return BotMessage(text if isinstance(text, str) else "", quick_replies, custom)
