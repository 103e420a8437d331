"""The engine's only input channel: the hub, posting over loopback to ``/webhooks/hub/webhook``.

Request and answer are shaped as Rasa's REST channel's: the body is ``{"sender", "message", "metadata"}``, the
answer a list of the bot's messages (``text``, ``buttons``, ``custom``, ``image``…) as Rasa's
``CollectingOutputChannel`` collects them. Two differences, both for the resident's sake:

- the tracker's ``input_channel`` is the channel the resident really used (``metadata["channel"]``: web, line,
  kiosk…), so the dialogue and the trackers can tell them apart;
- a failure is answered with HTTP 500 (the hub then apologises) and logged without the resident's text. Rasa's
  REST channel logs the text with the exception and answers 200 with whatever was collected.
"""

from __future__ import annotations

import inspect
import logging
import re
import traceback
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

# A channel name is a short lowercase word (web, line, widget, kiosk); anything else is not trusted as one.
CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,19}")
MAX_SENDER_LENGTH = 200


class HubRequestError(ValueError):
    """The body posted to the webhook is not a message the engine can take."""


def channel_name(metadata: dict[str, Any] | None, default: str) -> str:
    """The resident's channel named in the metadata, or `default` when it is missing or not a plain name."""
    name = metadata.get("channel") if metadata else None
    return name if isinstance(name, str) and CHANNEL_NAME.fullmatch(name) else default


def parse_message(body: Any) -> tuple[str, str, dict[str, Any] | None]:
    """The sender, text and metadata of a webhook body; raises HubRequestError naming what is wrong."""
    if not isinstance(body, dict):
        raise HubRequestError('the body must be a JSON object {"sender", "message", "metadata"}')
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
        raise HubRequestError(f'"sender" must be a non-empty string of at most {MAX_SENDER_LENGTH} characters')
    if not isinstance(text, str):
        raise HubRequestError('"message" must be a string')
    if metadata is not None and not isinstance(metadata, dict):
        raise HubRequestError('"metadata" must be an object when given')
    return sender, text, metadata


def where(error: BaseException) -> str:
    """Where an error was raised (file, line, function of the innermost frames), without its message.

    An exception's message can carry the resident's text (a database error quotes the row it failed to
    write), so only its type and place are logged.
    """
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return " <- ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}" for frame in reversed(frames))


class HubInput(RestInput):
    """Rasa's REST channel as the hub uses it: the real channel as input_channel, no resident text in logs."""

    @classmethod
    def name(cls) -> str:
        return "hub"

    def _extract_input_channel(self, req: Request) -> str:
        return channel_name(self.get_metadata(req), self.name())

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        body = request.json
        metadata = body.get("metadata") if isinstance(body, dict) else None
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook: one message in, the bot's messages out."""
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata = parse_message(request.json)
            except InvalidUsage:
                return response.json({"error": "the body is not JSON"}, status=400)
            except HubRequestError as error:
                return response.json({"error": str(error)}, status=400)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=channel_name(metadata, self.name()),
                metadata=metadata,
            )
            try:
                await on_new_message(message)
            except CancelledError:
                logger.error("hub.message.timeout: conversation %s", sender)
                raise
            except Exception as error:
                logger.error(
                    "hub.message.failure: conversation %s: %s at %s", sender, type(error).__name__, where(error)
                )
                return response.json({"error": "the engine failed to handle the message"}, status=500)
            return response.json(collector.messages)

        return webhook
