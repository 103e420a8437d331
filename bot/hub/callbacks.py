"""Callbacks: a resident who cannot wait in the chat leaves a phone number, and staff call them in the desk's hours.

Offered where waiting in the chat does not work: outside the desk's hours (after the guide's answer) and when
nobody has claimed a ticket in time. The number goes into the ticket only — never into the transcript, the engine
or a log — and is dropped when the ticket closes. Volunteers never see it (callbacks are routed to staff).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable

from bot.city import City
from bot.hub.messages import BotMessage, HubAnswer, QuickReply
from bot.hub.store import Conversation, StoreThread
from bot.hub.tickets import HandoffRequest
from bot.hub.wording import (
    CALLBACK_BUTTON,
    CALLBACK_CANCELLED,
    CALLBACK_NUMBER_UNCLEAR,
    callback_question,
    callback_taken_messages,
)
from bot.phone_numbers import PHONE_HIDDEN, last_digits, read_phone_number

logger = logging.getLogger(__name__)

CALLBACK = "hub:callback"
CALLBACK_CANCEL = "hub:callback_cancel"
# Sent to the engine when the resident goes back to the guide (the guide resumes where they were).
BACK_TO_GUIDE = "/handoff_returned"
_DIGIT_RUN = re.compile("[0-9]+")


def callback_reply() -> QuickReply:
    """The button that asks for a call."""
    return QuickReply(CALLBACK_BUTTON, CALLBACK)


def as_kept(text: str) -> str:
    """What the transcript keeps of a message written while the number was asked for: no digits at all."""
    if read_phone_number(text) is not None:
        return PHONE_HIDDEN
    return _DIGIT_RUN.sub("＊", unicodedata.normalize("NFKC", text))


class CallbackDesk:
    """Asks for the number, reads it, and turns the resident's request into a callback ticket."""

    def __init__(
        self,
        db: StoreThread,
        city: City,
        changed: Callable[[], Awaitable[None]],
        waiting_replies: list[QuickReply],
    ) -> None:
        self._db = db
        self._waiting_replies = waiting_replies
        self._city = city
        self._changed = changed
        # Where the guide was when it offered a person outside the hours (in memory: after a restart the
        # ticket names the procedure only).
        self._requests: dict[str, HandoffRequest] = {}

    def remember(self, conversation_id: str, request: HandoffRequest) -> None:
        """Keep what the guide reported, for the ticket a callback will open."""
        self._requests[conversation_id] = request

    def answers(self, payload: str) -> bool:
        """Whether this button is one of the callback's."""
        return payload in (CALLBACK, CALLBACK_CANCEL)

    async def on_payload(self, conversation: Conversation, payload: str) -> HubAnswer:
        """「電話してほしい」 asks for the number; 「やめる」 stops asking."""
        if payload == CALLBACK:
            await self._db(lambda s: s.set_awaiting_phone(conversation.id, True))
            return HubAnswer(callback_question(self._city), [QuickReply("やめる", CALLBACK_CANCEL)])
        await self._db(lambda s: s.set_awaiting_phone(conversation.id, False))
        if conversation.mode == "person":
            # Still in the queue for a person: the resident keeps the choices they had there.
            return HubAnswer([BotMessage(CALLBACK_CANCELLED)], self._waiting_replies)
        return HubAnswer([BotMessage(CALLBACK_CANCELLED)], [], engine_text=BACK_TO_GUIDE)

    async def on_text(
        self, conversation: Conversation, text: str, platform_message_id: str | None = None
    ) -> HubAnswer | None:
        """Read the awaited number. None when the message holds no digits at all: the resident moved on, and the
        message goes to the bot as usual (after a word that the call was not booked)."""
        number = read_phone_number(text)
        if number is None and not any(char.isdigit() for char in unicodedata.normalize("NFKC", text)):
            await self._db(lambda s: s.set_awaiting_phone(conversation.id, False))
            return None
        kept = as_kept(text)
        # With the platform's id, a redelivered message (LINE, after a crash) is known as answered.
        await self._db(
            lambda s: s.record_resident_message(
                conversation.id, kept, pin_context=False, platform_message_id=platform_message_id
            )
        )
        if number is None:
            return HubAnswer([BotMessage(CALLBACK_NUMBER_UNCLEAR)], [QuickReply("やめる", CALLBACK_CANCEL)])
        request = self._requests.pop(conversation.id, None) or HandoffRequest("callback", conversation.procedure)
        ticket = await self._db(
            lambda s: s.tickets.ask_for_callback(conversation.id, conversation.channel, request, number)
        )
        await self._db(lambda s: s.set_awaiting_phone(conversation.id, False))
        await self._db(lambda s: s.set_mode(conversation.id, "bot"))
        await self._changed()
        logger.info("callback: conversation=%s ticket=%d", conversation.id, ticket.id)
        messages = callback_taken_messages(self._city, last_digits(number))
        return HubAnswer(messages, [QuickReply("案内にもどる", BACK_TO_GUIDE)])
