"""The guidance action: runs bot.guide for every resident message and keeps its state in slots."""

from __future__ import annotations

from dataclasses import asdict, fields
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.city import load_city
from bot.faq import answer_key, load_faq
from bot.glossary import load_glossary
from bot.guide import DEVICE_NAMES, Guide, GuideState, Turn
from bot.procedures import load_catalog
from bot.wording import load_wording

_NUMBER_SLOTS = ("step", "step_failures", "fallbacks")


@lru_cache(maxsize=1)
def guide() -> Guide:
    """The guide, built once per action-server process from the validated content."""
    catalog = load_catalog()
    return Guide(catalog, load_city(), load_glossary(), load_wording(), faq=load_faq(procedures=catalog))


def state_from_slots(tracker: Tracker) -> GuideState:
    """Read the guide's state from the conversation's slots."""
    values: dict[str, Any] = {}
    for field in fields(GuideState):
        value = tracker.get_slot(field.name)
        if value is None:
            continue
        if field.name in _NUMBER_SLOTS:
            value = int(value)
        elif field.name == "explained_terms":
            value = tuple(value)
        elif field.name == "device" and value not in DEVICE_NAMES:
            continue  # a name the guide does not know is no device: it asks again
        values[field.name] = value
    return GuideState(**values)


def slot_events(before: GuideState, after: GuideState) -> list[EventType]:
    """SlotSet events for every slot the turn changed."""
    old, new = asdict(before), asdict(after)
    events: list[EventType] = []
    for name, value in new.items():
        if value != old[name]:
            events.append(SlotSet(name, list(value) if isinstance(value, tuple) else value))
    return events


def utter(dispatcher: CollectingDispatcher, turn: Turn) -> None:
    """Send each reply of the turn; the turn's quick replies go once, on its last message."""
    buttons = [{"title": reply.title, "payload": reply.payload} for reply in turn.quick_replies]
    last = len(turn.replies) - 1
    for index, reply in enumerate(turn.replies):
        extra = {"buttons": buttons} if index == last and buttons else {}
        if reply.response:
            dispatcher.utter_message(response=reply.response, **extra, **reply.params)
        else:
            dispatcher.utter_message(text=reply.text, **extra)
    for signal in turn.signals:
        # Not shown to the resident: the hub reads it (handoff, a failed step, a misunderstanding).
        dispatcher.utter_message(json_message=signal)


class ActionGuide(Action):
    """Answers every resident message from the guide."""

    def name(self) -> str:
        return "action_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "nlu_fallback"
        entities = {
            entity["entity"]: entity["value"]
            for entity in tracker.latest_message.get("entities", [])
            if isinstance(entity.get("value"), str)
        }
        metadata = tracker.latest_message.get("metadata") or {}
        text = tracker.latest_message.get("text") or ""
        before = state_from_slots(tracker)
        ranking = tuple(
            (str(entry.get("name")), float(entry.get("confidence") or 0.0))
            for entry in tracker.latest_message.get("intent_ranking") or []
        )
        turn = guide().respond(
            before,
            intent,
            entities,
            text=text,
            redacted=metadata.get("redacted") is True,
            faq_key=answer_key(tracker.latest_message),
            ranking=ranking,
        )
        utter(dispatcher, turn)
        return slot_events(before, turn.state)


class ActionSessionStart(Action):
    """Starts a new session, keeping the slots, and marks a procedure left half-way as resumable."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        carried: list[EventType] = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name != "returning"
        ]
        returning = tracker.get_slot("procedure") is not None
        return [SessionStarted(), *carried, SlotSet("returning", returning), ActionExecuted("action_listen")]
