"""Booking an in-person session with volunteers from the chat: pick a time, get the details, cancel, be reminded.

The guide reports a request for in-person help as a signal; when the city lists sessions
(`volunteer_sessions` in the city file) the hub answers with the times that still have seats, as buttons it
answers itself (`hub:book:…`). A resident holds one booking at a time. The day before, residents on channels
that can push are reminded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.city import City
from bot.hub.bookings import AlreadyBooked, Booking, BookingNotFound, SlotFull
from bot.hub.messages import BotMessage, HubAnswer, QuickReply
from bot.hub.store import Conversation, StoreThread
from bot.volunteer_sessions import Slot, VolunteerSessions

logger = logging.getLogger(__name__)

BOOK = "hub:book:"
CANCEL = "hub:cancel_booking:"
BOOK_NONE = "hub:book_none"
BOOK_AGAIN = "hub:book_again"
SHOW_MENU = "/show_menu"
# A senior reads a short list: the soonest times with seats, not every one of the next three weeks.
SLOTS_OFFERED = 6

OFFER_INTRO = "ボランティアの相談会を予約できます。会って、ゆっくり教えてもらえます。"
OFFER_ASK = "来られる日時を、ボタンで選んでください。"
NO_SLOTS = "すみません。いまは、予約できる回がありません。"
BOOKED = "予約しました。"
BRING = "当日は、マイナンバーカードと、お使いのスマートフォンをお持ちください。"
REMEMBER_PINS = "暗証番号は、覚えてきてください。ここには書かないでください。"
FULL = "すみません。その時間は、いっぱいになりました。ほかの日時を選んでください。"
GONE = "すみません。その回は、もう予約できません。ほかの日時を選んでください。"
CANCELLED = "予約をとりけしました。"
NOT_BOOKED = "わかりました。予約はしませんでした。"
REMINDER = "明日は、ボランティアの相談会です。"

Send = Callable[..., Awaitable[list[int]]]


def booking_details(booking_slot: Slot) -> BotMessage:
    """Date, time and place of a session, on two lines."""
    venue = booking_slot.venue
    return BotMessage(f"日時：{booking_slot.spoken}（{booking_slot.minutes}分）\n場所：{venue.name}（{venue.place}）")


class VolunteerDesk:
    """The booking conversation and the day-before reminders."""

    def __init__(self, db: StoreThread, city: City, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._sessions: VolunteerSessions | None = city.volunteer_sessions
        self._clock = clock

    @property
    def takes_bookings(self) -> bool:
        """Whether the city lists sessions residents can book in the chat."""
        return self._sessions is not None

    async def offer(self, conversation: Conversation) -> HubAnswer | None:
        """The resident asked for in-person help: their booking, or the times with seats (None: none listed)."""
        if self._sessions is None:
            return None
        current = await self._db(lambda s: s.bookings.active_booking_of(conversation.id))
        if current is not None:
            return self._current(current)
        replies = await self._open_slot_replies()
        if not replies:
            return None  # the guide's own answer (place, hours, how to book by phone) stands
        return HubAnswer([BotMessage(OFFER_INTRO), BotMessage(OFFER_ASK)], [*replies, _not_now()])

    @staticmethod
    def answers(payload: str) -> bool:
        """Whether this hub button is one of the booking conversation's."""
        return payload in (BOOK_NONE, BOOK_AGAIN) or payload.startswith((BOOK, CANCEL))

    async def on_payload(self, conversation: Conversation, payload: str) -> HubAnswer:
        """A booking button: take the seat, cancel, or not book at all."""
        if payload == BOOK_NONE:
            return HubAnswer([BotMessage(NOT_BOOKED)], [], engine_text=SHOW_MENU)
        if payload == BOOK_AGAIN:
            again = await self.offer(conversation)
            return again or HubAnswer([BotMessage(NO_SLOTS)], [], engine_text=SHOW_MENU)
        if payload.startswith(CANCEL):
            return await self._cancel(conversation, payload.removeprefix(CANCEL))
        if payload.startswith(BOOK):
            return await self._book(conversation, payload.removeprefix(BOOK))
        raise ValueError(f"unknown booking payload {payload!r}")

    async def upcoming_bookings(self) -> list[tuple[Booking, Slot | None]]:
        """Every active booking still to come, soonest first, with its slot (None if the city removed it)."""
        booked = await self._db(lambda s: s.bookings.upcoming())
        if self._sessions is None:
            return [(booking, None) for booking in booked]
        return [(booking, self._sessions.slot_at(booking.slot_key)) for booking in booked]

    async def send_reminders(self, channels: list[str], send: Send) -> int:
        """Remind residents, on channels that push, of tomorrow's session (once each)."""
        if self._sessions is None:
            return 0
        due = await self._db(lambda s: s.bookings.due_for_reminder(channels))
        for booking in due:
            slot = self._slot_of(booking)
            details = [booking_details(slot)] if slot is not None else []
            messages = [BotMessage(REMINDER), *details, BotMessage(BRING)]
            await send(booking.conversation_id, messages, replies=[_cancel_reply(booking)])
            await self._db(lambda s, b=booking: s.bookings.mark_reminded(b.id))  # type: ignore[misc]
            logger.info("volunteers: reminded booking %d", booking.id)
        return len(due)

    async def _book(self, conversation: Conversation, key: str) -> HubAnswer:
        assert self._sessions is not None
        slot = self._sessions.slot(key, self._clock())
        if slot is None:
            return HubAnswer([BotMessage(GONE)], [*await self._open_slot_replies(), _not_now()])
        try:
            booking = await self._db(lambda s: s.bookings.book(conversation.id, conversation.channel, slot))
        except SlotFull:
            return HubAnswer([BotMessage(FULL)], [*await self._open_slot_replies(), _not_now()])
        except AlreadyBooked as held:
            return self._current(held.booking)
        logger.info("volunteers: conversation=%s booked %s", conversation.id, slot.key)
        messages = [BotMessage(BOOKED), booking_details(slot), BotMessage(BRING), BotMessage(REMEMBER_PINS)]
        return HubAnswer(messages, [_cancel_reply(booking), _menu()])

    async def _cancel(self, conversation: Conversation, raw_id: str) -> HubAnswer:
        if not raw_id.isdigit():
            raise ValueError(f"booking id {raw_id!r} is not a number")
        try:
            await self._db(lambda s: s.bookings.cancel(conversation.id, int(raw_id)))
        except BookingNotFound:
            pass  # cancelled already (a double tap): the answer is the same
        return HubAnswer([BotMessage(CANCELLED)], [QuickReply("べつの日を予約", BOOK_AGAIN), _menu()])

    def _current(self, booking: Booking) -> HubAnswer:
        slot = self._slot_of(booking)
        details = [booking_details(slot)] if slot is not None else []
        return HubAnswer([BotMessage("相談会の予約があります。"), *details], [_cancel_reply(booking), _menu()])

    def _slot_of(self, booking: Booking) -> Slot | None:
        assert self._sessions is not None
        return self._sessions.slot_at(booking.slot_key)

    async def _open_slot_replies(self) -> list[QuickReply]:
        assert self._sessions is not None
        slots = self._sessions.upcoming(self._clock())
        taken = await self._db(lambda s: s.bookings.seats_taken_by_slot([slot.key for slot in slots]))
        open_slots = [slot for slot in slots if taken.get(slot.key, 0) < slot.seats][:SLOTS_OFFERED]
        return [QuickReply(slot.label, f"{BOOK}{slot.key}") for slot in open_slots]


def _cancel_reply(booking: Booking) -> QuickReply:
    return QuickReply("予約をとりけす", f"{CANCEL}{booking.id}")


def _not_now() -> QuickReply:
    return QuickReply("予約しない", BOOK_NONE)


def _menu() -> QuickReply:
    return QuickReply("メニュー", SHOW_MENU)
