"""The guidance action reads its state from slots, answers, and writes back only what changed."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import ActionGuide, ActionSessionStart, slot_events, state_from_slots
from bot.guide import GuideState


def tracker(
    intent: str,
    slots: dict[str, Any],
    entities: list[dict[str, Any]] | None = None,
    text: str = "x",
    metadata: dict[str, Any] | None = None,
    parse: dict[str, Any] | None = None,
) -> Tracker:
    return Tracker(
        sender_id="web:test",
        slots=slots,
        latest_message={
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "text": text,
            "metadata": metadata or {},
            **(parse or {}),
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action: Any, current: Tracker) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, current, {}))
    return dispatcher, events


def test_state_round_trips_through_slots() -> None:
    state = GuideState(procedure="moving", step=2, device="pc", explained_terms=("転出届",))
    slots = {event["name"]: event["value"] for event in slot_events(GuideState(), state)}
    assert state_from_slots(tracker("affirm", {**slots, "step": 2.0})) == state


def test_guide_action_puts_the_turns_buttons_once_on_its_last_message() -> None:
    dispatcher, events = run(ActionGuide(), tracker("portal_login", {}))
    shown = [message for message in dispatcher.messages if not message.get("custom")]
    assert len(shown) >= 2
    *earlier, last = shown
    assert last["buttons"], last
    assert {button["title"] for button in last["buttons"]} >= {"iPhone", "Android", "パソコン"}
    assert all(not message["buttons"] for message in earlier), earlier
    slots = {event["name"]: event["value"] for event in events}
    assert slots["procedure"] == "portal_login"
    assert slots["awaiting"] == "device"


def test_device_entity_moves_to_the_first_step() -> None:
    slots = {"procedure": "portal_login", "awaiting": "device", "step": 0.0, "device": "android"}
    dispatcher, events = run(ActionGuide(), tracker("inform_device", slots, [{"entity": "device", "value": "android"}]))
    assert dispatcher.messages[-1]["response"] == "guide_step"
    assert {"event": "slot", "timestamp": None, "name": "awaiting", "value": None} in events


def test_session_start_marks_an_unfinished_procedure() -> None:
    _, events = run(ActionSessionStart(), tracker("greet", {"procedure": "moving", "step": 3.0}))
    names = {event.get("name"): event.get("value") for event in events if event["event"] == "slot"}
    assert names["returning"] is True and names["procedure"] == "moving"
    _, events = run(ActionSessionStart(), tracker("greet", {}))
    names = {event.get("name"): event.get("value") for event in events if event["event"] == "slot"}
    assert names["returning"] is False


def test_a_removed_number_repeats_the_step_instead_of_offering_the_pin_procedure() -> None:
    slots = {"procedure": "bank_account", "step": 1.0}
    metadata = {"channel": "web", "redacted": True}
    dispatcher, events = run(
        ActionGuide(), tracker("pin_forgot", slots, text="暗証番号は［消しました］です", metadata=metadata)
    )
    responses = [message["response"] for message in dispatcher.messages if message["response"] != "guide_term"]
    assert responses == ["guide_redacted", "guide_step"]
    assert not [event for event in events if event.get("name") == "procedure"]


def test_an_unknown_phone_name_never_reaches_the_device_slot() -> None:
    slots = {"procedure": "portal_login", "awaiting": "device", "step": 0.0}
    entities = [{"entity": "device", "value": "らくらくホン"}]
    dispatcher, events = run(ActionGuide(), tracker("inform_device", slots, entities, text="らくらくホンです"))
    assert [message["response"] for message in dispatcher.messages] == ["guide_device_unknown"]
    assert "らくらくホン" not in str(dispatcher.messages)
    assert not [event for event in events if event.get("name") == "device"]


def test_a_device_slot_holding_an_unknown_name_is_read_as_no_device() -> None:
    state = state_from_slots(tracker("affirm", {"procedure": "moving", "device": "ABC", "step": 1.0}))
    assert state.device is None and state.procedure == "moving"


def test_a_procedure_button_opens_that_procedure_of_its_family() -> None:
    payload = '/child_allowance{"procedure_id":"child_allowance_revision"}'
    entities = [{"entity": "procedure_id", "value": "child_allowance_revision"}]
    _, events = run(ActionGuide(), tracker("child_allowance", {}, entities, text=payload))
    slots = {event["name"]: event["value"] for event in events}
    assert slots["procedure"] == "child_allowance_revision"
    asked, _ = run(ActionGuide(), tracker("child_allowance", {}, text="児童手当の手続き"))
    assert asked.messages[-1]["response"] == "guide_pick" and len(asked.messages[-1]["buttons"]) <= 13


def test_two_close_intents_in_the_ranking_are_asked_about() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.2},
        {"name": "card_receive", "confidence": 0.33},
        {"name": "card_apply", "confidence": 0.3},
    ]
    unsure = tracker("nlu_fallback", {}, text="カードのこと", parse={"intent_ranking": ranking})
    dispatcher, _ = run(ActionGuide(), unsure)
    assert dispatcher.messages[0]["response"] == "guide_which_of_two"
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"][:2]] == ["/card_receive", "/card_apply"]
