"""The web chat's plain HTTP channel: one POST to /channels/web/messages per resident turn.

Request: {"text": str} or {"payload": str}, plus "session" (the token from an earlier answer) to go on
with a conversation. Answer: {"session": token, "messages": [{"text", "quick_replies": [{title, payload}]}]}.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from bot.city import City
from bot.hub.engine import EngineMisbehaved, EngineUnavailable, as_typed_text
from bot.hub.keys import CITY, ENGINE, STORE
from bot.hub.messages import BotMessage
from bot.hub.store import ConversationNotFound
from bot.privacy import redact_personal_numbers

logger = logging.getLogger(__name__)

NAME = "web"
MESSAGES_PATH = "/channels/web/messages"
MAX_TEXT_CHARS = 2000
FIELDS = frozenset({"text", "payload", "session"})

# Shown before the assistant's answer when the hub removed a My Number or a PIN from the resident's text.
REDACTION_NOTICE = "マイナンバーや暗証番号は、ここに書かないでください。書かれた番号は、こちらで消しました。"
# Shown instead of an answer when the engine cannot answer.
ENGINE_DOWN_NOTICE = (
    "すみません、いまはお答えできません。"
    "少し待ってから、もう一度送ってください。"
    "お急ぎのときは、下の窓口に電話してください。"
)


def helpdesk_contact(city: City) -> BotMessage:
    """The city helpdesk, given with the apology when the engine cannot answer."""
    desk = city.helpdesk
    return BotMessage(f"{desk.name}\n電話：{desk.phone}\n受付：{desk.hours}")


_dumps = partial(json.dumps, ensure_ascii=False)


class BadMessage(ValueError):
    """The request body is not a message this channel accepts; the text says what to fix."""


@dataclass(frozen=True)
class IncomingMessage:
    """One resident turn as posted by the web chat: typed text or a chosen quick reply."""

    session: str | None
    text: str | None
    payload: str | None


def parse_message(body: bytes) -> IncomingMessage:
    """Check the posted JSON and return the message; raise BadMessage saying what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BadMessage('send a JSON object such as {"text": "..."} with Content-Type application/json')
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        # Refusing extra fields keeps a client from believing it chose the conversation id.
        raise BadMessage(f"unknown field {', '.join(unknown)}: send only text or payload, and session")
    for field in sorted(FIELDS):
        if data.get(field) is not None and not isinstance(data[field], str):
            raise BadMessage(f"{field} must be a string")
    text, payload = data.get("text"), data.get("payload")
    if (text is None) == (payload is None):
        raise BadMessage("send exactly one of text (what the resident typed) or payload (a quick reply)")
    if text is not None:
        text = text.strip()
        if not text:
            raise BadMessage("text is empty: send what the resident typed")
        if len(text) > MAX_TEXT_CHARS:
            raise BadMessage(f"text is longer than {MAX_TEXT_CHARS:,} characters: send a shorter message")
    return IncomingMessage(data.get("session"), text, payload)


async def receive_message(request: web.Request) -> web.Response:
    """Take one resident turn, pass it to the engine and answer with the assistant's messages."""
    store, engine = request.app[STORE], request.app[ENGINE]
    try:
        message = parse_message(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "the request is too large: send at most 2,000 characters of text")
    except BadMessage as error:
        return _error(400, str(error))

    if message.session is None:
        if message.payload is not None:
            return _error(400, "payload answers a quick reply, and a new conversation has none: send text")
        conversation, token = store.start_conversation(NAME)
    else:
        try:
            conversation = store.conversation_for_token(NAME, message.session)
        except ConversationNotFound:
            return _error(404, "this session is unknown: leave session out to start a new conversation")
        token = message.session
        if message.payload is not None and message.payload not in store.offered_payloads(conversation.id):
            return _error(400, "this payload was not offered in the assistant's last message: send text")
        store.touch(conversation.id)

    notices: list[BotMessage] = []
    if message.text is not None:
        redaction = redact_personal_numbers(message.text)
        engine_text, redacted = as_typed_text(redaction.text), redaction.found
        if redacted:
            notices.append(BotMessage(REDACTION_NOTICE))
    else:
        engine_text, redacted = message.payload or "", False
    logger.info(
        "web turn: conversation=%s kind=%s chars=%d redacted=%s",
        conversation.id,
        "text" if message.text is not None else "payload",
        len(engine_text),
        redacted,
    )

    try:
        replies = await engine.send(conversation.id, engine_text, {"channel": NAME, "redacted": redacted})
    except EngineUnavailable as error:
        logger.warning("web turn: conversation=%s engine unavailable: %s", conversation.id, error)
        return _answer(token, [*notices, *engine_down(request)], status=503)
    except EngineMisbehaved as error:
        logger.error("web turn: conversation=%s engine misbehaved: %s", conversation.id, error)
        return _answer(token, [*notices, *engine_down(request)], status=502)

    store.remember_offered_replies(conversation.id, [reply for m in replies for reply in m.quick_replies])
    logger.info("web turn: conversation=%s answered messages=%d", conversation.id, len(replies))
    return _answer(token, [*notices, *replies])


def engine_down(request: web.Request) -> list[BotMessage]:
    """The apology and the helpdesk's phone, for when the engine is slow or down."""
    return [BotMessage(ENGINE_DOWN_NOTICE), helpdesk_contact(request.app[CITY])]


def _answer(token: str, messages: Sequence[BotMessage], status: int = 200) -> web.Response:
    body: dict[str, Any] = {
        "session": token,
        "messages": [
            {
                "text": m.text,
                "quick_replies": [{"title": r.title, "payload": r.payload} for r in m.quick_replies],
            }
            for m in messages
        ],
    }
    return web.json_response(body, status=status, dumps=_dumps)


def _error(status: int, explanation: str) -> web.Response:
    return web.json_response({"error": explanation}, status=status, dumps=_dumps)


class WebChannel:
    """The web chat, served by the hub itself."""

    name = NAME

    def add_routes(self, app: web.Application) -> None:
        """Register POST /channels/web/messages."""
        app.router.add_post(MESSAGES_PATH, receive_message)


channel = WebChannel()
