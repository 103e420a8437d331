"""Live handoff: the guide asks for a person, the hub opens a ticket and staff answer on the resident's channel.

The guide reports a handoff (and each failed step or misunderstanding) as a custom payload; the core passes
those signals here. During the desk's hours the conversation goes to a person: a ticket waits in the queue,
the resident is told what happens next, and the core stops sending their messages to the bot. Staff work
through `Helpdesk` (the console calls it): claim, reply, hand back to the bot (which resumes at the step) or
resolve (the resident is asked whether it helped). Outside the hours the guide's own answer stands: when the
desk opens, and where else to turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics as stats
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from bot.city import City
from bot.hub.bookings import Booking
from bot.hub.callbacks import CallbackDesk, callback_reply
from bot.hub.messages import BotMessage, HubAnswer, QuickReply
from bot.hub.store import Conversation, StoreThread, TranscriptEntry
from bot.hub.tickets import (
    Feedback,
    HandoffRequest,
    Routing,
    StepEventKind,
    StuckStep,
    Ticket,
    TicketStateError,
    day_start,
)
from bot.hub.volunteer_desk import VolunteerDesk
from bot.hub.wording import (
    FEEDBACK_QUESTION,
    FEEDBACK_THANKS,
    KEEP_WAITING_DONE,
    LEAVE_QUEUE_DONE,
    PASSED_ON,
    STAFF_ENDED,
    STAFF_JOINED,
    UNCLAIMED,
    UNCLAIMED_CHOICES,
    handed_over_messages,
    helpdesk_contact,
)
from bot.privacy import redact_personal_numbers
from bot.volunteer_sessions import Slot

if TYPE_CHECKING:
    from bot.hub.core import ConversationCore

logger = logging.getLogger(__name__)

# Payloads of buttons the hub offers itself: the core answers them here and never passes them to the engine.
HUB_PAYLOAD = "hub:"
LEAVE_QUEUE = "hub:leave_queue"
KEEP_WAITING = "hub:keep_waiting"
FEEDBACK_GOOD = "hub:feedback:good"
FEEDBACK_BAD = "hub:feedback:bad"
# What the hub sends the engine, in the resident's conversation, when staff hand it back (see domain.yml).
RESUME_AFTER_STAFF = "/handoff_returned"
VOLUNTEER_REQUEST = "/volunteer_booking"
ASK_VOLUNTEER = "hub:volunteer"
MAX_STAFF_TEXT = 2000
STEP_EVENT_KINDS: dict[str, StepEventKind] = {
    "step_failed": "step_failed",
    "fallback": "fallback",
    "handoff": "handoff",
}


@dataclass(frozen=True)
class Statistics:
    """What the console's statistics page shows, over the last `days` days."""

    days: int
    conversations_per_day: list[tuple[str, str, int]]
    conversations: int
    handoffs: int
    handoff_rate: float
    waiting_seconds: list[float]
    feedback: dict[str, int]
    stuck_steps: list[StuckStep]


def handoff_request(signal: dict[str, Any]) -> HandoffRequest | None:
    """The guide's handoff payload as a request, or None when the signal is something else or malformed."""
    if signal.get("event") != "handoff" or not isinstance(signal.get("reason"), str):
        return None

    def text(key: str) -> str | None:
        value = signal.get(key)
        return value if isinstance(value, str) and value else None

    def number(key: str) -> int | None:
        value = signal.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    return HandoffRequest(
        reason=signal["reason"],
        procedure=text("procedure"),
        procedure_title=text("procedure_title"),
        step=number("step"),
        step_count=number("step_count"),
        step_title=text("step_title"),
    )


class Helpdesk:
    """Tickets and the staff's side of a handed-over conversation."""

    def __init__(
        self,
        db: StoreThread,
        city: City,
        *,
        wait_limit: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.volunteers = VolunteerDesk(db, city, clock)
        self.callbacks = CallbackDesk(db, city, self._changed_now, _unclaimed_replies())
        self._db = db
        self._city = city
        self._wait_limit = wait_limit
        self._clock = clock
        self._core: ConversationCore | None = None
        self._version = 0
        # Tickets whose resident was told their words reached staff (in memory: after a restart, once more at most).
        self._acknowledged: set[int] = set()
        self._changed = asyncio.Condition()

    def attach(self, core: ConversationCore) -> None:
        """The core this helpdesk sends through (the two refer to each other)."""
        self._core = core

    @property
    def core(self) -> ConversationCore:
        """The conversation core; set by `attach` when the hub starts."""
        if self._core is None:
            raise RuntimeError("Helpdesk.attach(core) was not called")
        return self._core

    # --- called by the core ------------------------------------------------------------------

    def desk_is_open(self) -> bool:
        """Whether staff answer now (a city without hours in config/city.yml is taken as always staffed)."""
        hours = self._city.helpdesk.open
        return True if hours is None else hours.is_open(self._clock())

    async def on_signals(self, conversation: Conversation, signals: Sequence[dict[str, Any]]) -> HubAnswer | None:
        """Record the guide's stuck-step signals; hand the conversation to a person when it asked and staff are in."""
        answer: HubAnswer | None = None
        for signal in signals:
            kind = STEP_EVENT_KINDS.get(str(signal.get("event")))
            if kind is not None:
                await self._record_step_event(conversation, kind, signal)
            request = handoff_request(signal)
            if request is not None and answer is None:
                answer = await self._hand_over(conversation, request) if self.desk_is_open() else None
                if answer is None:
                    # Nobody can answer now: after the guide's word on when the desk opens, offer a call then.
                    self.callbacks.remember(conversation.id, request)
                    answer = HubAnswer([], [callback_reply()], after_engine=True)
            if signal.get("event") == "volunteer_booking" and answer is None:
                answer = await self.volunteers.offer(conversation)
        return answer

    async def on_hub_payload(self, conversation: Conversation, payload: str) -> HubAnswer:
        """Answer a button the hub offered (leave the queue, keep waiting, did it help, book a session)."""
        if self.volunteers.answers(payload):
            return await self.volunteers.on_payload(conversation, payload)
        if self.callbacks.answers(payload):
            return await self.callbacks.on_payload(conversation, payload)
        if payload in (LEAVE_QUEUE, ASK_VOLUNTEER):
            ticket = await self._db(lambda s: s.tickets.open_ticket_of(conversation.id))
            if ticket is not None:
                await self._db(lambda s: s.tickets.close(ticket.id, "with_bot"))
            await self._db(lambda s: s.set_mode(conversation.id, "bot"))
            await self._changed_now()
            if payload == ASK_VOLUNTEER:
                return HubAnswer([BotMessage(LEAVE_QUEUE_DONE)], [], engine_text=VOLUNTEER_REQUEST)
            return HubAnswer([BotMessage(LEAVE_QUEUE_DONE)], [], engine_text=RESUME_AFTER_STAFF)
        if payload == KEEP_WAITING:
            return HubAnswer([BotMessage(KEEP_WAITING_DONE)], [_leave_queue_reply()])
        if payload in (FEEDBACK_GOOD, FEEDBACK_BAD):
            feedback: Feedback = "good" if payload == FEEDBACK_GOOD else "bad"
            await self._db(lambda s: s.tickets.record_feedback(conversation.id, feedback))
            await self._changed_now()
            return HubAnswer([BotMessage(FEEDBACK_THANKS)], [], engine_text="/show_menu")
        raise ValueError(f"unknown hub payload {payload!r}")

    async def resident_wrote(self, conversation: Conversation) -> list[BotMessage]:
        """A message for the person who has the conversation: wake the console, and while nobody has claimed it
        yet, tell the resident once that it arrived (so the chat is never silent, and never floods)."""
        await self._changed_now()
        ticket = await self._db(lambda s: s.tickets.open_ticket_of(conversation.id))
        if ticket is None or ticket.state != "waiting" or ticket.id in self._acknowledged:
            return []
        self._acknowledged.add(ticket.id)
        return [BotMessage(PASSED_ON)]

    # --- called by the console ---------------------------------------------------------------

    async def queue(self, *, routed_to: Routing | None = None, include_closed: bool = False) -> list[Ticket]:
        """Open tickets, the longest waiting first (and closed ones after them when asked)."""
        return await self._db(lambda s: s.tickets.queue(routed_to, include_closed))

    async def ticket(self, ticket_id: int) -> Ticket:
        """One ticket; raises TicketNotFound."""
        return await self._db(lambda s: s.tickets.ticket(ticket_id))

    async def transcript(self, ticket_id: int, after: int = 0) -> list[TranscriptEntry]:
        """The ticket's conversation, both sides, redacted, after the message id `after`."""
        ticket = await self.ticket(ticket_id)
        return await self._db(lambda s: s.transcript_entries(ticket.conversation_id, after))

    async def claim(self, ticket_id: int, staff: str) -> Ticket:
        """Take a waiting ticket; the resident is told a person is reading."""
        ticket = await self._db(lambda s: s.tickets.claim(ticket_id, staff))
        if ticket.kind == "chat":
            await self.core.send_from_hub(ticket.conversation_id, [BotMessage(STAFF_JOINED)], sender="staff")
        await self._changed_now()
        return ticket

    async def reply(self, ticket_id: int, staff: str, text: str) -> TranscriptEntry:
        """Send a staff message to the resident on their channel (redacted like everything else)."""
        cleaned = text.strip()
        if not cleaned:
            raise TicketStateError("the message is empty: write what the resident should read")
        if len(cleaned) > MAX_STAFF_TEXT:
            raise TicketStateError(f"the message is longer than {MAX_STAFF_TEXT:,} characters: split it")
        ticket = await self.ticket(ticket_id)
        if ticket.kind == "callback":
            raise TicketStateError(f"ticket {ticket_id} asks for a phone call: call the resident, then resolve it")
        if ticket.state != "claimed" or ticket.claimed_by != staff:
            raise TicketStateError(f"ticket {ticket_id} is {ticket.state}: claim it before replying")
        safe = redact_personal_numbers(cleaned).text
        ids = await self.core.send_from_hub(ticket.conversation_id, [BotMessage(safe)], sender="staff")
        await self._changed_now()
        entries = await self._db(lambda s: s.transcript_entries(ticket.conversation_id, ids[0] - 1))
        return entries[0]

    async def add_note(self, ticket_id: int, author: str, text: str) -> None:
        """An internal note for colleagues; never sent, redacted all the same."""
        cleaned = text.strip()
        if not cleaned:
            raise TicketStateError("the note is empty")
        safe = redact_personal_numbers(cleaned[:MAX_STAFF_TEXT]).text
        await self._db(lambda s: s.tickets.add_note(ticket_id, author, safe))
        await self._changed_now()

    async def notes(self, ticket_id: int) -> list[tuple[str, str, datetime]]:
        """The ticket's internal notes, oldest first."""
        return await self._db(lambda s: s.tickets.notes(ticket_id))

    async def back_to_bot(self, ticket_id: int, staff: str) -> Ticket:
        """Give the conversation back to the bot, which says so and resumes at the step the resident was on."""
        del staff
        ticket = await self._db(lambda s: s.tickets.close(ticket_id, "with_bot"))
        await self._changed_now()
        if ticket.kind == "callback":
            return ticket  # the resident is with the bot already, waiting by the phone
        await self._db(lambda s: s.set_mode(ticket.conversation_id, "bot"))
        await self.core.send_from_hub(ticket.conversation_id, [BotMessage(STAFF_ENDED)], sender="staff")
        await self.core.engine_turn(ticket.conversation_id, RESUME_AFTER_STAFF)
        return ticket

    async def resolve(self, ticket_id: int, staff: str) -> Ticket:
        """Close the ticket and ask the resident, once and optionally, whether it helped."""
        del staff
        ticket = await self._db(lambda s: s.tickets.close(ticket_id, "resolved"))
        await self._changed_now()
        if ticket.kind == "callback":
            return ticket  # settled on the phone: nothing to say in the chat
        await self._db(lambda s: s.set_mode(ticket.conversation_id, "bot"))
        question = BotMessage(FEEDBACK_QUESTION)
        replies = [QuickReply("良かった", FEEDBACK_GOOD), QuickReply("良くなかった", FEEDBACK_BAD)]
        await self.core.send_from_hub(ticket.conversation_id, [BotMessage(STAFF_ENDED), question], replies=replies)
        return ticket

    async def bookings(self) -> list[tuple[Booking, Slot | None]]:
        """Volunteer sessions booked and still to come, soonest first, with their venue and time."""
        return await self.volunteers.upcoming_bookings()

    async def wait_for_change(self, seen: int, timeout: float) -> int:
        """Return the change counter as soon as it differs from `seen`, or after `timeout` seconds."""
        async with self._changed:
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self._version != seen), timeout)
            return self._version

    @property
    def version(self) -> int:
        """A counter that grows whenever a ticket or a handed-over transcript changes."""
        return self._version

    async def statistics(self, days: int = 30) -> Statistics:
        """Conversations, handoffs, waits, feedback and the steps where residents get stuck, over `days` days."""
        since = day_start(self._clock(), days)
        per_day = await self._db(lambda s: s.tickets.conversations_per_day(since))
        tickets = await self._db(lambda s: s.tickets.tickets_since(since))
        stuck = await self._db(lambda s: s.tickets.stuck_steps(since))
        conversations = sum(count for _, _, count in per_day)
        waits = [(t.claimed_at - t.created_at).total_seconds() for t in tickets if t.claimed_at is not None]
        feedback = {"good": 0, "bad": 0}
        for ticket in tickets:
            if ticket.feedback is not None:
                feedback[ticket.feedback] += 1
        return Statistics(
            days=days,
            conversations_per_day=per_day,
            conversations=conversations,
            handoffs=len(tickets),
            handoff_rate=len(tickets) / conversations if conversations else 0.0,
            waiting_seconds=waits,
            feedback=feedback,
            stuck_steps=stuck,
        )

    # --- the unclaimed-ticket watch ------------------------------------------------------------

    async def tell_unclaimed(self) -> int:
        """Tell residents whose ticket nobody claimed within the wait limit, once, what they can do instead."""
        overdue = await self._db(lambda s: s.tickets.unclaimed_since(self._clock() - self._wait_limit))
        for ticket in overdue:
            messages = [BotMessage(UNCLAIMED), helpdesk_contact(self._city), BotMessage(UNCLAIMED_CHOICES)]
            await self.core.send_from_hub(ticket.conversation_id, messages, replies=_unclaimed_replies())
            await self._db(lambda s, t=ticket: s.tickets.mark_timeout_told(t.id))  # type: ignore[misc]
            logger.info("handoff: ticket %d unclaimed after %s, resident told", ticket.id, self._wait_limit)
        return len(overdue)

    async def send_reminders(self, push_channels: list[str]) -> int:
        """Remind residents on these channels of tomorrow's volunteer session."""
        return await self.volunteers.send_reminders(push_channels, self.core.send_from_hub)

    @contextlib.asynccontextmanager
    async def keeping_watch(self, push_channels: list[str], every: float = 10.0) -> AsyncIterator[None]:
        """While the hub runs, every few seconds: tell residents nobody answered, and send session reminders."""

        async def watch() -> None:
            while True:
                try:
                    await self.tell_unclaimed()
                    await self.send_reminders(push_channels)
                except Exception:
                    logger.exception("handoff: the watch over tickets and reminders failed; it tries again")
                await asyncio.sleep(every)

        task = asyncio.create_task(watch(), name="helpdesk-watch")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- inside ----------------------------------------------------------------------------

    async def _hand_over(self, conversation: Conversation, request: HandoffRequest) -> HubAnswer:
        channel = conversation.channel
        ticket = await self._db(lambda s: s.tickets.open_ticket(conversation.id, channel, request, "staff"))
        await self._db(lambda s: s.set_mode(conversation.id, "person"))
        waiting = await self._db(lambda s: s.tickets.waiting_count())
        waits = await self._db(lambda s: s.tickets.recent_claim_waits())
        minutes = math.ceil(stats.median(waits) / 60) if waits else None
        logger.info("handoff: conversation=%s ticket=%d reason=%s", conversation.id, ticket.id, request.reason)
        await self._changed_now()
        return HubAnswer(handed_over_messages(max(waiting - 1, 0), minutes), [_leave_queue_reply()])

    async def _record_step_event(self, conversation: Conversation, kind: StepEventKind, signal: dict[str, Any]) -> None:
        procedure = signal.get("procedure") if isinstance(signal.get("procedure"), str) else None
        title = signal.get("procedure_title") if isinstance(signal.get("procedure_title"), str) else None
        step = signal.get("step") if isinstance(signal.get("step"), int) else None
        await self._db(
            lambda s: s.tickets.record_step_event(conversation.id, conversation.channel, kind, procedure, title, step)
        )

    async def _changed_now(self) -> None:
        async with self._changed:
            self._version += 1
            self._changed.notify_all()


def _leave_queue_reply() -> QuickReply:
    return QuickReply("ボットにもどる", LEAVE_QUEUE)


def _unclaimed_replies() -> list[QuickReply]:
    return [
        QuickReply("このまま待つ", KEEP_WAITING),
        callback_reply(),
        QuickReply("相談会の案内", ASK_VOLUNTEER),
        _leave_queue_reply(),
    ]
