"""The kiosk's HTTP side: its page, the speech of a message, the summary card, and the speech-to-text hook."""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from bot.hub.core import Session, UnknownSession
from bot.hub.keys import CITY
from bot.hub.speech.speaker import MAX_SPEECH_CHARS, NothingToSay, SpeechUnavailable, TextTooLong
from channels.widget.settings import normal_origin

from . import wording
from .card import summary_card

if TYPE_CHECKING:
    from . import KioskChannel

logger = logging.getLogger(__name__)

PAGE = Path(__file__).parent / "kiosk.html"
# Everything from the hub itself; audio from the speech endpoint; the microphone only through the browser.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Audio for a text never changes; the browser may keep it for a day (the voice may change in between).
SPEECH_CACHE = "public, max-age=86400"
# About a minute of compressed speech: the page stops recording well before.
MAX_RECORDING_BYTES = 2 * 1024 * 1024
LISTEN_TIMEOUT = 20.0


class SpeechTextOutOfLogs(logging.Filter):
    """Access-log lines keep the speech endpoint's path but not its query: the text of a message (a staff reply,
    the last digits of a phone number) has no place in the hub's log."""

    _QUERY = re.compile(r"(/channels/kiosk/speech)\?[^ \"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the line without the query; never drop it."""
        if isinstance(record.msg, str) and "/channels/kiosk/speech?" in record.msg:
            record.msg = self._QUERY.sub(r"\1?…", record.msg)
        return True


def keep_speech_text_out_of_logs() -> None:
    """Install the filter on aiohttp's access log, once."""
    access = logging.getLogger("aiohttp.access")
    if not any(isinstance(existing, SpeechTextOutOfLogs) for existing in access.filters):
        access.addFilter(SpeechTextOutOfLogs())


class KioskViews:
    """Request handlers bound to the kiosk channel they serve."""

    def __init__(self, channel: KioskChannel) -> None:
        self._channel = channel

    async def page(self, request: web.Request) -> web.Response:
        """The kiosk's page, with its idle times and whether a speech-to-text service is plugged in."""
        settings = self._channel.settings
        page = (
            PAGE.read_text(encoding="utf-8")
            .replace("{{city}}", html.escape(request.app[CITY].name))
            .replace("{{idle}}", str(settings.idle_seconds))
            .replace("{{answer}}", str(settings.answer_seconds))
            .replace("{{listen}}", "on" if settings.speech_to_text_url else "off")
            .replace("{{words}}", html.escape(json.dumps(wording.PAGE, ensure_ascii=False)))
        )
        headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"}
        return web.Response(text=page, content_type="text/html", headers=headers)

    async def to_page(self, request: web.Request) -> web.Response:
        """/kiosk without the slash."""
        raise web.HTTPFound("/kiosk/")

    async def speech(self, request: web.Request) -> web.StreamResponse:
        """GET ?text=…&speed=normal|slow: the message spoken, as MP3 (Google's voice) or WAV (the offline one)."""
        text = request.query.get("text", "")
        speed = request.query.get("speed", "normal")
        if speed not in ("normal", "slow"):
            return _refusal(400, "bad_speed", "speed is normal or slow")
        try:
            spoken = await self._channel.speaker.speak(text, "slow" if speed == "slow" else "normal")
        except NothingToSay:
            return _refusal(400, "empty", wording.SPEECH_EMPTY)
        except TextTooLong:
            return _refusal(400, "too_long", wording.speech_too_long(MAX_SPEECH_CHARS))
        except SpeechUnavailable:
            logger.exception("kiosk: no voice could speak a message")
            return _refusal(503, "no_voice", wording.SPEECH_NO_VOICE)
        etag = f'"{spoken.key}"'
        headers = {"Cache-Control": SPEECH_CACHE, "ETag": etag, "X-Voice": spoken.audio.voice}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=spoken.audio.data, content_type=spoken.audio.content_type, headers=headers)

    async def card(self, request: web.Request) -> web.Response:
        """GET ?session=…: the summary card of the procedure this conversation is in (404 when it is in none)."""
        token = request.query.get("session", "").strip()
        if not token:
            return _refusal(400, "no_session", "session is required")
        try:
            conversation = await self._channel.core.find(self._channel.name, Session(token))
        except UnknownSession:
            return _refusal(404, "session_over", "no such conversation")
        procedure = self._channel.procedures().get(conversation.procedure or "")
        if procedure is None:
            return _refusal(404, "no_procedure", "the conversation is in no procedure yet")
        card = summary_card(procedure, request.app[CITY])
        return web.json_response(card.as_json(), headers={"Cache-Control": "no-store"})

    async def listen(self, request: web.Request) -> web.Response:
        """POST recorded audio: the text an operator's speech-to-text service heard in it, as {"text": …}."""
        url = self._channel.settings.speech_to_text_url
        origin = normal_origin(request.headers.get("Origin", ""))
        if origin is not None and origin != normal_origin(f"{origin.split(':', 1)[0]}://{request.host}"):
            # Only the kiosk's own page may use the city's speech-to-text service.
            return _refusal(403, "other_site", "only the kiosk page may send recordings")
        if url is None:
            return _refusal(404, "no_service", "no speech-to-text service is set (KIOSK_SPEECH_TO_TEXT_URL)")
        body = await request.content.read(MAX_RECORDING_BYTES + 1)
        if not body:
            return _refusal(400, "empty", "no audio")
        if len(body) > MAX_RECORDING_BYTES:
            return _refusal(413, "too_long", "the recording is too long")
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        try:
            timeout = aiohttp.ClientTimeout(total=LISTEN_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, data=body, headers={"Content-Type": content_type}) as answer:
                    answer.raise_for_status()
                    heard = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("kiosk: the speech-to-text service failed: %s", error)
            return _refusal(502, "not_heard", "the speech-to-text service did not answer")
        text = heard.get("text") if isinstance(heard, dict) else None
        if not isinstance(text, str):
            return _refusal(502, "not_heard", 'the speech-to-text service must answer {"text": "..."}')
        return web.json_response({"text": text.strip()}, headers={"Cache-Control": "no-store"})


def _refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)
