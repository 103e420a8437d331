"""The web chat's plain HTTP channel: one POST per resident turn, and a GET for messages that came later.

POST /channels/web/messages with {"text": str} or {"payload": str} (the payload of a quick reply from the
latest answer), plus "session" (the token from an earlier answer) to go on with a conversation.
GET /channels/web/messages with the header "Authorization: Bearer <session>" returns what arrived since
(a late answer, a staff reply). Both answer {"session", "messages": [{"text", "quick_replies": [{title,
payload}]}], "pending": bool}; quick replies sit on the last message only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from aiohttp import web

from bot.hub.core import ConversationCore, ResidentMessage, Session, Turn, TurnRefused, UnknownSession
from bot.hub.keys import CORE
from bot.hub.store import OutboxItem

NAME = "web"
MESSAGES_PATH = "/channels/web/messages"
MAX_TEXT_CHARS = 2000
FIELDS = frozenset({"text", "payload", "session"})
# The HTTP status of each turn outcome: a slow answer is accepted and follows; a failed one is a 503.
STATUS = {"answered": 200, "stale_button": 200, "with_person": 200, "engine_slow": 202, "engine_down": 503}

_dumps = partial(json.dumps, ensure_ascii=False)


class BadMessage(ValueError):
    """The request body is not a message this channel accepts; the text says what to fix."""


def parse_message(body: bytes) -> tuple[str | None, ResidentMessage]:
    """Check the posted JSON and return the session token (if any) and the message; raise BadMessage."""
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
    text, payload, token = data.get("text"), data.get("payload"), data.get("session")
    if (text is None) == (payload is None):
        raise BadMessage("send exactly one of text (what the resident typed) or payload (a quick reply)")
    if text is not None:
        text = text.strip()
        if not text:
            raise BadMessage("text is empty: send what the resident typed")
        if len(text) > MAX_TEXT_CHARS:
            raise BadMessage(f"text is longer than {MAX_TEXT_CHARS:,} characters: send a shorter message")
    return token, ResidentMessage(NAME, Session(token), text=text, reply_key=payload)


async def receive_message(request: web.Request) -> web.StreamResponse:
    """Take one resident turn through the core and answer with what it says (and anything still waiting)."""
    core = request.app[CORE]
    try:
        _, message = parse_message(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "the request is too large: send at most 2,000 characters of text")
    except BadMessage as error:
        return _error(400, str(error))
    try:
        turn = await core.handle(message)
    except UnknownSession as error:
        return _error(404, str(error))
    except TurnRefused as error:
        return _error(400, str(error))
    waiting = await core.undelivered(turn.conversation)
    items = _in_order(waiting, turn)
    token = turn.session_token
    assert token is not None, "the web channel always has a session token"
    return await _send(request, core, token, items, status=STATUS[turn.outcome], pending=turn.outcome == "engine_slow")


async def fetch_messages(request: web.Request) -> web.StreamResponse:
    """Messages that arrived for the resident since the last answer (a late answer, a staff reply)."""
    core = request.app[CORE]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "send the session token as Authorization: Bearer <session>")
    try:
        conversation = await core.find(NAME, Session(token.strip()))
    except UnknownSession as error:
        return _error(404, str(error))
    items = await core.undelivered(conversation)
    return await _send(request, core, token.strip(), items, status=200, pending=core.is_busy(conversation))


def _in_order(waiting: Sequence[OutboxItem], turn: Turn) -> list[OutboxItem]:
    """Earlier undelivered messages first, then this turn's (which are among them unless already sent)."""
    by_id = {item.id: item for item in (*waiting, *turn.messages)}
    return [by_id[key] for key in sorted(by_id)]


async def _send(
    request: web.Request, core: ConversationCore, token: str, items: Sequence[OutboxItem], *, status: int, pending: bool
) -> web.StreamResponse:
    """Write the answer, then mark its messages delivered: a dropped connection leaves them for the next fetch."""
    body: dict[str, Any] = {"session": token, "messages": [_render(item) for item in items], "pending": pending}
    response = web.json_response(body, status=status, dumps=_dumps)
    await response.prepare(request)
    await response.write_eof()
    await core.mark_delivered(items)
    return response


def _render(item: OutboxItem) -> dict[str, Any]:
    message = item.message
    return {
        "text": message.text,
        "quick_replies": [{"title": r.title, "payload": r.payload} for r in message.quick_replies],
    }


def _error(status: int, explanation: str) -> web.Response:
    return web.json_response({"error": explanation}, status=status, dumps=_dumps)


class WebChannel:
    """The web chat's plain HTTP form, served by the hub itself; it cannot push, so later messages wait."""

    name = NAME

    def add_routes(self, app: web.Application) -> None:
        """Register POST and GET /channels/web/messages."""
        app.router.add_post(MESSAGES_PATH, receive_message)
        app.router.add_get(MESSAGES_PATH, fetch_messages)


def create(env: Mapping[str, str]) -> WebChannel:
    """The web channel needs no secrets: it is on whenever it is listed."""
    return WebChannel()
