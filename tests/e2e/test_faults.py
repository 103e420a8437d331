"""What a resident meets when a process dies mid-procedure: an apology with the helpdesk, then the same step."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from bot.city import load_city
from bot.hub.wording import ENGINE_DOWN_NOTICE
from bot.launcher import Stack
from tests.e2e.conftest import Resident, post_json
from tests.e2e.test_conversations import begin, progress

CITY = load_city()


def send_raw(resident: Resident, text: str) -> tuple[int, dict[str, Any]]:
    """Type a message without the Resident helper's insistence on a 200 answer."""
    return post_json(f"{resident.hub_url}/channels/web/messages", {"text": text, "session": resident.session})


def assert_apology(status: int, answer: dict[str, Any], buttons_before: list[str]) -> None:
    assert status == 503, answer
    texts = [message["text"] for message in answer["messages"]]
    assert texts[0] == ENGINE_DOWN_NOTICE
    assert CITY.helpdesk.phone in texts[-1] and CITY.helpdesk.hours in texts[-1]
    # The buttons that were on offer stay on offer.
    assert [reply["title"] for reply in answer["messages"][-1]["quick_replies"]] == buttons_before


def hub_health(stack: Stack) -> int:
    try:
        with urllib.request.urlopen(f"{stack.hub_url}/health", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_dead_action_server_gets_the_apology_then_the_same_step(stack: Stack, resident: Resident) -> None:
    begin(resident, "portal_login")
    step = progress(resident.press("できました"))
    buttons = resident.buttons
    stack.kill("actions")
    status, answer = send_raw(resident, "できました")
    assert_apology(status, answer, buttons)
    assert stack.processes["engine"].poll() is None and stack.processes["hub"].poll() is None
    assert hub_health(stack) == 503
    stack.wait_healthy("actions", timeout=120)
    assert hub_health(stack) == 200
    assert progress(resident.say("もう一度")) == step


def test_a_dead_engine_gets_the_apology_and_the_conversation_goes_on(stack: Stack, resident: Resident) -> None:
    begin(resident, "portal_login")
    step = progress(resident.press("できました"))
    buttons = resident.buttons
    stack.kill("engine")
    status, answer = send_raw(resident, "できました")
    assert_apology(status, answer, buttons)
    stack.wait_healthy("engine", timeout=300)
    # The tracker in SQLite kept the conversation: the same step, and its buttons work again.
    assert progress(resident.say("もう一度")) == step
    assert progress(resident.press("できました"))[0] == step[0] + 1


def test_a_restarted_hub_keeps_the_conversation_and_its_buttons(stack: Stack, resident: Resident) -> None:
    begin(resident, "convenience_store")
    step = progress([message["text"] for message in resident.messages])
    stack.kill("hub")
    stack.wait_healthy("hub", timeout=60)
    assert progress(resident.press("できました"))[0] == step[0] + 1
