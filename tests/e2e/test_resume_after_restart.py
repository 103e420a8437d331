"""A resident half-way through a procedure continues after every process restarted."""

from __future__ import annotations

from bot.launcher import Stack
from tests.e2e.conftest import Resident
from tests.e2e.test_conversations import begin, progress


def test_resume_after_restart(stack: Stack) -> None:
    resident = Resident(stack.hub_url)
    begin(resident, "bank_account")
    resident.press("できました")
    reached = progress([resident.press("できました")[-1]])

    stack.stop()
    stack.start()

    later = Resident(stack.hub_url, session=resident.session)
    texts = later.say("こんにちは")
    assert f"{reached[0]}つめの手順" in texts[-1]
    assert "続きから" in later.buttons
    texts = later.press("続きから")
    assert progress(texts) == reached
