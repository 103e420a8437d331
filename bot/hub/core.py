"""The conversation core: every channel hands a resident's message here and gets the answer to send back.

One place decides who is talking, redacts personal numbers, checks a tapped button against the turn that
offered it, routes to the bot or to a person, calls the engine, words its failures, and writes every message
for the resident to the outbox before any channel sends it. Channels only translate to and from their platform.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.city import City
from bot.hub.engine import EngineClient, EngineMisbehaved, EngineUnavailable, as_typed_text
from bot.hub.handoff import HUB_PAYLOAD, Helpdesk
from bot.hub.messages import BotMessage, HubAnswer, QuickReply, turn_replies, with_replies_on_last
from bot.hub.store import (
    Conversation,
    ConversationNotFound,
    HistoryEntry,
    Offer,
    OutboxItem,
    Sender,
    StoreThread,
    parse_offer_key,
)
from bot.hub.turn_locks import TurnLocks
from bot.hub.wording import (
    CALLBACK_CANCELLED,
    REDACTION_NOTICE,
    STALE_BUTTON_NOTICE,
    engine_down_messages,
    engine_slow_messages,
)
from bot.privacy import mentions_pin, redact_personal_numbers

logger = logging.getLogger(__name__)

Outcome = Literal["answered", "engine_down", "engine_slow", "stale_button", "with_person"]


class TurnRefused(ValueError):
    """The message cannot be taken as it is; the text says what the client should do instead."""


class UnknownSession(TurnRefused):
    """The session token matches no conversation (never issued, or purged after the retention period)."""


@dataclass(frozen=True)
class Session:
    """A resident known by a session token the hub issued (web chat, kiosk); None starts a new conversation."""

    token: str | None


@dataclass(frozen=True)
class PlatformUser:
    """A resident known by a platform's own user id (LINE); `address` is where pushed messages go."""

    user_id: str
    address: str | None = None


@dataclass(frozen=True)
class ResidentMessage:
    """One message from a resident, as a channel parsed it: typed text, or the key of a tapped quick reply."""

    channel: str
    sender: Session | PlatformUser
    text: str | None = None
    reply_key: str | None = None
    # The platform's id of this message (LINE), so that the resident can take it back (unsend).
    platform_message_id: str | None = None
    # The text was redacted by keepable_text() before a channel kept it, and personal numbers were removed.
    redacted_before: bool = False

    def __post_init__(self) -> None:
        if (self.text is None) == (self.reply_key is None):
            raise ValueError("a resident message has exactly one of text or reply_key")


@dataclass
class Turn:
    """What came of one resident message: the messages to send, already in the outbox, and why."""

    conversation: Conversation
    outcome: Outcome
    messages: list[OutboxItem]
    session_token: str | None = None
    signals: list[dict[str, Any]] = field(default_factory=list)


class ConversationCore:
    """Takes residents' messages from every channel, one turn at a time per conversation."""

    def __init__(
        self,
        db: StoreThread,
        engine: EngineClient,
        city: City,
        *,
        reply_timeout: float,
        on_outgoing: Callable[[str], None] = lambda channel: None,
        helpdesk: Helpdesk | None = None,
    ) -> None:
        self._db = db
        self._engine = engine
        self._city = city
        self._reply_timeout = reply_timeout
        self._on_outgoing = on_outgoing
        self._locks = TurnLocks()
        self._late_answers: set[asyncio.Task[None]] = set()
        self._helpdesk = helpdesk
        if helpdesk is not None:
            helpdesk.attach(self)

    async def handle(self, message: ResidentMessage) -> Turn:
        """Take one resident message and return the turn's messages (written to the outbox, not yet delivered)."""
        conversation, token = await self._resolve(message)
        await self._locks.acquire(conversation.id)
        handed_over = False
        try:
            # Re-read: an earlier turn of this conversation may have finished while this one waited.
            conversation = await self._db(lambda s: s.conversation(conversation.id))
            turn, handed_over = await self._take_turn(conversation, message)
        finally:
            if not handed_over:
                self._locks.release(conversation.id)
        turn.session_token = token
        return turn

    async def undelivered(self, conversation: Conversation) -> list[OutboxItem]:
        """Messages for the resident that no channel has delivered yet (late answers, staff replies)."""
        return await self._db(lambda s: s.undelivered(conversation.id))

    async def mark_delivered(self, items: Sequence[OutboxItem]) -> None:
        """Record that a channel handed these messages to the resident."""
        ids = [item.id for item in items]
        await self._db(lambda s: s.mark_delivered(ids))

    async def find(self, channel: str, sender: Session | PlatformUser) -> Conversation:
        """The existing conversation of this sender; raise UnknownSession when there is none."""
        identity = sender.token if isinstance(sender, Session) else sender.user_id
        if identity is None:
            raise UnknownSession("send the session token from an earlier answer")
        try:
            return await self._db(lambda s: s.find_conversation(channel, identity))
        except ConversationNotFound as error:
            raise UnknownSession("this session is unknown: leave session out to start a new conversation") from error

    async def history(self, conversation: Conversation, limit: int = 30) -> list[HistoryEntry]:
        """The newest messages of both sides already seen (redacted), oldest first: what a reload shows again."""
        return await self._db(lambda s: s.history(conversation.id, limit))

    def is_busy(self, conversation: Conversation) -> bool:
        """Whether a turn of this conversation is still running (a late answer is on its way)."""
        return self._locks.is_held(conversation.id)

    def turns_in_progress(self) -> int:
        """Conversations with a turn running or waiting now."""
        return self._locks.held()

    async def wait_for_late_answers(self) -> None:
        """Let engine answers that came after the timeout reach the outbox (used on shutdown and in tests)."""
        while self._late_answers:
            await asyncio.gather(*list(self._late_answers), return_exceptions=True)

    async def send_from_hub(
        self,
        conversation_id: str,
        messages: list[BotMessage],
        *,
        replies: list[QuickReply] | None = None,
        sender: Sender = "bot",
    ) -> list[int]:
        """Send messages nobody typed a turn for (staff replies, handoff notices) on the resident's channel.

        With `replies` they become the buttons on offer (older ones go stale); without, the current buttons stay.
        """
        async with self._locks.held_for(conversation_id):
            conversation = await self._db(lambda s: s.conversation(conversation_id))
            if replies is None:
                offer = await self._db(lambda s: s.current_offer(conversation_id))
            else:
                offer = await self._db(lambda s: s.offer(conversation_id, replies))
            turn = await self._reply(conversation, "answered", messages, offer, sender=sender)
        return [item.id for item in turn.messages]

    async def engine_turn(self, conversation_id: str, engine_text: str) -> Turn:
        """A turn the hub starts in the resident's conversation (the bot resuming after staff), answered as usual."""
        async with self._locks.held_for(conversation_id):
            conversation = await self._db(lambda s: s.conversation(conversation_id))
            offer = await self._db(lambda s: s.current_offer(conversation_id))
            return await self._engine_answer(conversation, engine_text, [], offer)

    async def _hub_answer(self, conversation: Conversation, answer: HubAnswer) -> tuple[Turn, bool]:
        """The hub's own answer to one of its buttons, followed by the engine's when it asks the bot to go on."""
        if answer.engine_text is None:
            offer = await self._db(lambda s: s.offer(conversation.id, answer.replies))
            return await self._reply(conversation, "answered", answer.messages, offer), False
        offer = await self._db(lambda s: s.current_offer(conversation.id))
        conversation = await self._db(lambda s: s.conversation(conversation.id))
        return await self._engine_answer(conversation, answer.engine_text, answer.messages, offer), False

    async def _engine_answer(
        self, conversation: Conversation, engine_text: str, before: list[BotMessage], offer: Offer
    ) -> Turn:
        """Ask the engine (waiting as long as the client allows) and answer with `before` and what it says."""
        try:
            answer = await self._engine.send(conversation.id, engine_text, {"channel": conversation.channel})
        except (EngineUnavailable, EngineMisbehaved) as error:
            logger.warning("turn: conversation=%s engine failed: %s", conversation.id, error)
            return await self._reply(conversation, "engine_down", [*before, *engine_down_messages(self._city)], offer)
        return await self._answer(conversation, answer, [], offer, False, before=before)

    # For platforms that push (LINE): text kept before its turn, notices without the engine, ending, taking back

    async def keepable_text(self, channel: str, sender: PlatformUser, text: str) -> tuple[str, bool]:
        """The text as a channel may keep it before its turn (a durable inbox), and whether numbers were removed."""
        try:
            conversation = await self._db(lambda s: s.find_conversation(channel, sender.user_id))
            pin_expected = conversation.pin_context
        except ConversationNotFound:
            pin_expected = False
        redaction = redact_personal_numbers(readable(text), pin_expected=pin_expected)
        return redaction.text, redaction.found

    async def notify(self, channel: str, sender: PlatformUser, messages: Sequence[BotMessage]) -> Turn:
        """Write messages the engine has no part in (a greeting, a polite answer to a sticker) to the outbox;
        the buttons on offer stay on the last one."""
        conversation = await self._db(lambda s: s.find_or_start_conversation(channel, sender.user_id, sender.address))
        await self._locks.acquire(conversation.id)
        try:
            offer = await self._db(lambda s: s.current_offer(conversation.id))
            return await self._reply(conversation, "answered", list(messages), offer)
        finally:
            self._locks.release(conversation.id)

    async def end_conversation(self, channel: str, sender: PlatformUser) -> bool:
        """Forget the resident's conversation and all kept of it (they blocked the account); False if none."""
        try:
            conversation = await self._db(lambda s: s.find_conversation(channel, sender.user_id))
        except ConversationNotFound:
            return False
        await self._locks.acquire(conversation.id)
        try:
            await self._db(lambda s: s.end_conversation(conversation.id))
        finally:
            self._locks.release(conversation.id)
        logger.info("conversation ended: conversation=%s", conversation.id)
        return True

    async def forget_message(self, channel: str, sender: PlatformUser, platform_message_id: str) -> int:
        """Remove a message the resident took back from the transcript; return how many rows went."""
        try:
            conversation = await self._db(lambda s: s.find_conversation(channel, sender.user_id))
        except ConversationNotFound:
            return 0
        removed = await self._db(lambda s: s.remove_resident_message(conversation.id, platform_message_id))
        logger.info("message taken back: conversation=%s removed=%d", conversation.id, removed)
        return removed

    async def already_answered(self, channel: str, sender: PlatformUser, platform_message_id: str) -> bool:
        """Whether this platform message already had its turn and answer (a channel handling an event again
        after the hub stopped before noting it done)."""
        try:
            conversation = await self._db(lambda s: s.find_conversation(channel, sender.user_id))
        except ConversationNotFound:
            return False
        return await self._db(lambda s: s.answered_after(conversation.id, platform_message_id))

    async def _resolve(self, message: ResidentMessage) -> tuple[Conversation, str | None]:
        sender = message.sender
        if isinstance(sender, Session):
            if sender.token is not None:
                return await self.find(message.channel, sender), sender.token
            if message.reply_key is not None:
                raise TurnRefused(
                    "a quick reply answers an earlier message, and a new conversation has none: send text"
                )
            token = secrets.token_urlsafe(32)
            return await self._db(lambda s: s.start_conversation(message.channel, token)), token
        conversation = await self._db(
            lambda s: s.find_or_start_conversation(message.channel, sender.user_id, sender.address)
        )
        return conversation, None

    async def _take_turn(self, conversation: Conversation, message: ResidentMessage) -> tuple[Turn, bool]:
        """The turn itself, under the conversation's lock; True when a late engine answer now owns the lock."""
        offer = await self._db(lambda s: s.current_offer(conversation.id))
        notices: list[BotMessage] = []
        first: list[BotMessage] = []  # said before anything else this turn, whoever answers
        redacted = False
        if message.reply_key is not None:
            payload = offer.payload_for(message.reply_key)
            if payload is None:
                parsed = parse_offer_key(message.reply_key)
                if parsed is None or parsed[0] >= offer.turn:
                    raise TurnRefused("this payload was not offered by the assistant: send text")
                # A second tap on a button, or a button from an older message: answered, never applied twice.
                logger.info("turn: conversation=%s old button key", conversation.id)
                return await self._reply(conversation, "stale_button", [BotMessage(STALE_BUTTON_NOTICE)], offer), False
            chosen = next(r.title for r in offer.replies if r.payload == payload)
            if conversation.awaiting_phone:
                # A tap instead of a phone number: the question is over (「電話してほしい」 asks it again).
                await self._db(lambda s: s.set_awaiting_phone(conversation.id, False))
            if self._helpdesk is not None and payload.startswith(HUB_PAYLOAD):
                await self._db(lambda s: s.record_resident_message(conversation.id, chosen, pin_context=False))
                return await self._hub_answer(conversation, await self._helpdesk.on_hub_payload(conversation, payload))
            engine_text, transcript_text, pin_word = payload, chosen, False
        else:
            assert message.text is not None
            if conversation.awaiting_phone and self._helpdesk is not None:
                # The number for a callback: read by the helpdesk before anything keeps or forwards the text.
                text = readable(message.text)
                callback = await self._helpdesk.callbacks.on_text(conversation, text, message.platform_message_id)
                if callback is not None:
                    return await self._hub_answer(conversation, callback)
                first.append(BotMessage(CALLBACK_CANCELLED))
            redaction = redact_personal_numbers(readable(message.text), pin_expected=conversation.pin_context)
            redacted = redaction.found or message.redacted_before
            if redacted:
                notices.append(BotMessage(REDACTION_NOTICE))
            engine_text, transcript_text = as_typed_text(redaction.text), redaction.text
            pin_word = mentions_pin(redaction.text)
        await self._db(
            lambda s: s.record_resident_message(
                conversation.id, transcript_text, pin_context=pin_word, platform_message_id=message.platform_message_id
            )
        )
        logger.info(
            "turn: conversation=%s channel=%s kind=%s chars=%d redacted=%s mode=%s",
            conversation.id,
            conversation.channel,
            "reply" if message.reply_key is not None else "text",
            len(engine_text),
            redacted,
            conversation.mode,
        )
        if conversation.mode == "person":
            # A person has this conversation: the message waits in the transcript for them; the bot stays quiet.
            if self._helpdesk is not None:
                notices += await self._helpdesk.resident_wrote(conversation)
            return await self._reply(conversation, "with_person", [*first, *notices], offer), False

        metadata = {"channel": conversation.channel, "redacted": redacted}
        call = asyncio.ensure_future(self._engine.send(conversation.id, engine_text, metadata))
        try:
            answer = await asyncio.wait_for(asyncio.shield(call), self._reply_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            logger.warning("turn: conversation=%s engine slow, answer will follow", conversation.id)
            slow = [*first, *notices, *engine_slow_messages(self._city)]
            turn = await self._reply(conversation, "engine_slow", slow, offer)
            # Only now does the late answer take over the lock: had writing the apology failed, handle() frees it.
            self._follow_late_answer(conversation, call, pin_word)
            return turn, True
        except (EngineUnavailable, EngineMisbehaved) as error:
            logger.warning("turn: conversation=%s engine failed: %s", conversation.id, error)
            answer = []
        return await self._answer(conversation, answer, notices, offer, pin_word, before=first), False

    async def _answer(
        self,
        conversation: Conversation,
        answer: list[BotMessage],
        notices: list[BotMessage],
        offer: Offer,
        resident_spoke_of_pin: bool,
        before: Sequence[BotMessage] = (),
    ) -> Turn:
        """The engine's answer, after `before` (what the hub said first); the helpdesk may answer the signals."""
        shown = [m for m in answer if m.text.strip() or m.quick_replies]
        signals = [m.custom for m in answer if m.custom]
        if not any(m.text.strip() for m in shown):
            # Rasa answers an empty list when an action fails: never leave the resident in silence.
            logger.warning("turn: conversation=%s the engine gave no answer", conversation.id)
            down = [*before, *notices, *engine_down_messages(self._city)]
            return await self._reply(conversation, "engine_down", down, offer, signals)
        texts = [m for m in shown if m.text.strip()]
        replies = turn_replies(shown)
        if signals:
            logger.info("turn: conversation=%s signals=%s", conversation.id, [sorted(s) for s in signals])
            await self._note_procedure(conversation, signals)
            hub_answer = None if self._helpdesk is None else await self._helpdesk.on_signals(conversation, signals)
            if hub_answer is not None and hub_answer.after_engine:
                # Nobody can take over now: the guide's words stand, and the hub adds what it can offer.
                texts, replies = [*texts, *hub_answer.messages], [*replies, *hub_answer.replies]
            elif hub_answer is not None:
                # A person takes over, or a session can be booked here: the hub says what happens next instead
                # of the guide's list of contacts.
                texts, replies = hub_answer.messages, hub_answer.replies
        new_offer = await self._db(lambda s: s.offer(conversation.id, replies))
        bot_spoke_of_pin = any(mentions_pin(m.text) for m in texts)
        pin_context = resident_spoke_of_pin or bot_spoke_of_pin
        await self._db(lambda s: s.set_pin_context(conversation.id, pin_context))
        # The guide words its own notice of a removed number (metadata "redacted") and asks its question again;
        # the hub's notice is only for turns the engine did not answer.
        return await self._reply(conversation, "answered", [*before, *texts], new_offer, signals)

    async def _note_procedure(self, conversation: Conversation, signals: list[dict[str, Any]]) -> None:
        """Keep the procedure the guide opened (a kiosk's summary card and the helpdesk refer to it)."""
        for signal in signals:
            procedure = signal.get("procedure")
            if signal.get("event") == "procedure_opened" and isinstance(procedure, str) and procedure:
                await self._db(lambda s, p=procedure: s.set_procedure(conversation.id, p))  # type: ignore[misc]

    async def _reply(
        self,
        conversation: Conversation,
        outcome: Outcome,
        messages: list[BotMessage],
        offer: Offer,
        signals: list[dict[str, Any]] | None = None,
        sender: Sender = "bot",
    ) -> Turn:
        """Write the turn's messages to the outbox, with the offer's buttons (as turn-bound keys) on the last."""
        keyed = [QuickReply(reply.title, offer.key(position)) for position, reply in enumerate(offer.replies)]
        outgoing = [_redacted(m) for m in with_replies_on_last(messages, keyed)]
        ids = await self._db(lambda s: s.enqueue(conversation.id, outgoing, sender))
        items = [
            OutboxItem(id=i, conversation_id=conversation.id, channel=conversation.channel,
                       address=conversation.address, message=m, attempts=0, created_at=conversation.last_activity_at,
                       sender=sender)
            for i, m in zip(ids, outgoing, strict=True)
        ]  # fmt: skip
        if items:
            self._on_outgoing(conversation.channel)
        return Turn(conversation, outcome, items, signals=signals or [])

    def _follow_late_answer(
        self, conversation: Conversation, call: asyncio.Future[list[BotMessage]], resident_spoke_of_pin: bool
    ) -> None:
        """Keep the conversation's lock until the slow engine answers, then put its answer in the outbox."""

        async def follow() -> None:
            try:
                answer = await call
                if any(m.text.strip() for m in answer):
                    offer = await self._db(lambda s: s.current_offer(conversation.id))
                    await self._answer(conversation, answer, [], offer, resident_spoke_of_pin)
                    logger.info("turn: conversation=%s late answer queued", conversation.id)
            except (EngineUnavailable, EngineMisbehaved) as error:
                # The resident already has the apology with the helpdesk's phone; nothing else to send.
                logger.warning("turn: conversation=%s late engine answer failed: %s", conversation.id, error)
            except Exception:
                logger.exception("turn: conversation=%s late engine answer could not be kept", conversation.id)
            finally:
                self._locks.release(conversation.id)

        task = asyncio.create_task(follow())
        self._late_answers.add(task)
        task.add_done_callback(self._late_answers.discard)


def readable(text: str) -> str:
    """The text with lone surrogates (half an emoji, from a broken client) as U+FFFD: SQLite, the logs and the
    engine only take well-formed Unicode."""
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def _redacted(message: BotMessage) -> BotMessage:
    """Outgoing text passes the same redaction: nothing the engine echoes can carry a personal number out."""
    redaction = redact_personal_numbers(message.text)
    if not redaction.found:
        return message
    return BotMessage(redaction.text, message.quick_replies, message.custom)
