"""LINE's webhook: check the signature, keep each event in the hub's inbox, answer 200, then handle the events.

Nothing is touched before the signature checks out, and a bad request gets a 4xx, never a 500. Events are kept
(deduplicated on webhookEventId) before LINE gets its 200, so a hub that stops half-way handles them when it
starts again. Each event is then handed to the conversation core: text and quick replies become turns, the rest
gets a short notice, an unfollow ends the conversation and an unsend removes the message from the transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

from aiohttp import web
from linebot.v3.webhook import SignatureValidator

from bot.hub.core import ConversationCore, PlatformUser, ResidentMessage, TurnRefused
from bot.hub.inbox import InboxEvent, InboxWorker
from channels.line.api import LineApi, LineApiError
from channels.line.delivery import LineDelivery
from channels.line.events import LineEvent, read_event
from channels.line.wording import GREETING, HOW_TO_USE, ONE_TO_ONE, not_text_answer

logger = logging.getLogger(__name__)

NAME = "line"
# The loading animation shows when an answer takes longer than this, for up to LOADING_SECONDS (LINE: 5 to 60).
LOADING_AFTER = 1.0
LOADING_SECONDS = 20
# The one-to-one notice goes to a group or room at most this often, however much its members write.
GROUP_NOTICE_EVERY = 3600.0
MAX_WEBHOOK_BYTES = 1024 * 1024
# The rich menu's buttons send these postbacks; two of them stand for words the assistant already understands.
MENU_TEXT = {"menu.start": "手続きの一覧", "menu.person": "人と話したい"}
MENU_HELP = "menu.help"


class LineEvents:
    """The webhook view and the handler of kept events, for one hub."""

    def __init__(self, secret: str, api: LineApi, delivery: LineDelivery) -> None:
        self._validator = SignatureValidator(secret)
        self._api = api
        self._delivery = delivery
        self._core: ConversationCore | None = None
        self._worker: InboxWorker | None = None
        self._group_told: dict[str, float] = {}

    def start(self, core: ConversationCore, worker: InboxWorker) -> None:
        """Begin handling events (kept ones from an earlier run first)."""
        self._core, self._worker = core, worker
        worker.start()

    @property
    def worker(self) -> InboxWorker:
        """The inbox worker handing this hub's LINE events to handle()."""
        assert self._worker is not None, "the LINE channel has not started"
        return self._worker

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /channels/line/webhook: 400/401 for a bad request, else keep the events and answer 200 at once."""
        signature = request.headers.get("X-Line-Signature", "").strip()
        if not signature:
            return _error(400, "X-Line-Signature is missing")
        try:
            # LINE batches events: a body can pass the hub's limit for one chat message, and a 413 would be
            # redelivered (and refused) again and again.
            body = (await request.clone(client_max_size=MAX_WEBHOOK_BYTES).read()).decode("utf-8")
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "the request is too large")
        except UnicodeDecodeError:
            return _error(400, "the body is not UTF-8")
        if not self._validator.validate(body, signature):
            return _error(401, "the signature does not match the body")
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "the body is not JSON")
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list):
            return _error(400, "the body has no events list")
        kept = 0
        for raw in events:
            event = read_event(raw) if isinstance(raw, dict) else None
            if event is not None and await self._keep(event):
                kept += 1
        if events:
            logger.info("line: webhook events=%d kept=%d", len(events), kept)
        return web.json_response({})

    async def _keep(self, event: LineEvent) -> bool:
        """Redact the text through the core, then record the event in the inbox; False for a redelivery."""
        if event.kind == "text" and event.text is not None:
            if event.source == "user" and event.user_id:
                text, removed = await self._ready_core().keepable_text(NAME, PlatformUser(event.user_id), event.text)
                event = replace(event, text=text, redacted=removed)
            else:
                event = replace(event, text=None)  # a group's words are not for us to keep
        sender_key = event.chat_id or event.user_id or event.event_id
        return await self.worker.keep(InboxEvent(NAME, event.event_id, sender_key, event.as_body()))

    async def handle(self, kept: InboxEvent) -> None:
        """Act on one kept event (called by the inbox worker, in order per chat)."""
        event = LineEvent.from_body(kept.body)
        core = self._ready_core()
        if event.source in ("group", "room"):
            await self._tell_group(core, event)
            return
        if event.source != "user" or not event.user_id:
            logger.info("line: event %s (%s) from no user; logged only", event.event_id, event.type_name)
            return
        user = PlatformUser(event.user_id, address=event.user_id)
        kind = event.kind
        if kind == "unfollow":
            self._delivery.drop_reply_token(event.user_id)
            await core.end_conversation(NAME, user)
            return
        if kind == "unsend":
            if event.message_id:
                await core.forget_message(NAME, user, event.message_id)
            return
        if kind == "unknown":
            logger.info("line: event %s of type %r not handled", event.event_id, event.type_name)
            return
        self._delivery.offer_reply_token(event.user_id, event.reply_token, event.timestamp_ms)
        if kind == "follow":
            await core.notify(NAME, user, GREETING)
        elif kind in ("sticker", "image", "video", "audio", "file", "location"):
            await core.notify(NAME, user, not_text_answer(kind))
        elif kind == "postback" and event.postback_data == MENU_HELP:
            await core.notify(NAME, user, HOW_TO_USE)
        elif kind in ("text", "postback"):
            await self._take_turn(core, user, event)

    async def _take_turn(self, core: ConversationCore, user: PlatformUser, event: LineEvent) -> None:
        data = event.postback_data or ""
        if event.message_id and await core.already_answered(NAME, user, event.message_id):
            # The hub stopped after this turn was answered but before the event was noted done.
            logger.info("line: event %s was answered before the hub stopped; not again", event.event_id)
            return
        if event.kind == "text" and event.text is not None:
            message = ResidentMessage(
                NAME, user, text=event.text, platform_message_id=event.message_id, redacted_before=event.redacted
            )
        elif data in MENU_TEXT:
            message = ResidentMessage(NAME, user, text=MENU_TEXT[data])
        elif data:
            message = ResidentMessage(NAME, user, reply_key=data)
        else:
            return
        async with self._loading(user.user_id):
            try:
                await core.handle(message)
            except TurnRefused as refused:
                logger.info("line: event %s refused by the core: %s", event.event_id, refused)

    @contextlib.asynccontextmanager
    async def _loading(self, chat_id: str) -> AsyncIterator[None]:
        """Show LINE's loading animation if the turn takes longer than LOADING_AFTER seconds."""

        async def show_later() -> None:
            await asyncio.sleep(LOADING_AFTER)
            try:
                await self._api.show_loading(chat_id, LOADING_SECONDS)
            except LineApiError as error:
                logger.info("line: loading animation not shown: %s", error)

        task = asyncio.create_task(show_later())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _tell_group(self, core: ConversationCore, event: LineEvent) -> None:
        """A group or room gets the one-to-one notice (through the outbox), at most once an hour."""
        if event.kind in ("unknown", "unfollow", "unsend") or not event.chat_id:
            return
        told = self._group_told.get(event.chat_id)
        now = time.monotonic()
        if told is not None and now - told < GROUP_NOTICE_EVERY:
            return
        self._group_told[event.chat_id] = now
        self._delivery.offer_reply_token(event.chat_id, event.reply_token, event.timestamp_ms)
        chat = PlatformUser(f"{event.source}:{event.chat_id}", address=event.chat_id)
        await core.notify(NAME, chat, list(ONE_TO_ONE))

    def _ready_core(self) -> ConversationCore:
        assert self._core is not None, "the LINE channel has not started"
        return self._core


def _error(status: int, explanation: str) -> web.Response:
    # The reason is for the operator reading LINE's console; it names nothing from the request.
    logger.warning("line: webhook refused (%d): %s", status, explanation)
    return web.json_response({"error": explanation}, status=status)
