"""What the hub itself says to residents keeps the plain-Japanese limits and always names the helpdesk."""

from __future__ import annotations

import pytest

from bot.city import load_city
from bot.hub import volunteer_desk, wording
from bot.hub.wording import (
    REDACTION_NOTICE,
    STALE_BUTTON_NOTICE,
    callback_question,
    callback_taken_messages,
    engine_down_messages,
    engine_slow_messages,
    handed_over_messages,
)
from bot.plain_japanese import check_message

CITY = load_city()
TEXTS = {
    "redaction": [REDACTION_NOTICE],
    "stale-button": [STALE_BUTTON_NOTICE],
    "engine-down": [m.text for m in engine_down_messages(CITY)],
    "engine-slow": [m.text for m in engine_slow_messages(CITY)],
    "handed-over": [m.text for m in handed_over_messages(3, 7)],
    "handed-over-first": [m.text for m in handed_over_messages(0, None)],
    "callback-question": [m.text for m in callback_question(CITY)],
    "callback-taken": [m.text for m in callback_taken_messages(CITY, "5678")],
    # Every sentence the handoff and the volunteer booking say, as constants in their modules.
    "handoff-and-booking": [
        value
        for module in (wording, volunteer_desk)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and any("\u3040" <= c <= "\u30ff" for c in value)
    ],
}


@pytest.mark.parametrize("texts", TEXTS.values(), ids=TEXTS.keys())
def test_the_hubs_own_messages_are_plain_japanese(texts: list[str]) -> None:
    for text in texts:
        assert check_message(text) == [], text


@pytest.mark.parametrize("apology", [engine_down_messages, engine_slow_messages])
def test_every_apology_ends_with_the_helpdesk_phone_and_hours(apology: object) -> None:
    assert callable(apology)
    last = apology(CITY)[-1].text
    assert CITY.helpdesk.phone in last and CITY.helpdesk.hours in last
    assert len(apology(CITY)) <= 4
