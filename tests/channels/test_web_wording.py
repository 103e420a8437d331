"""The web channel's own messages to residents keep the plain-Japanese limits."""

from __future__ import annotations

import pytest

from bot.plain_japanese import check_message
from channels.web import ENGINE_DOWN_NOTICE, REDACTION_NOTICE


@pytest.mark.parametrize("notice", [REDACTION_NOTICE, ENGINE_DOWN_NOTICE], ids=["redaction", "engine-down"])
def test_the_hubs_own_messages_are_plain_japanese(notice: str) -> None:
    assert check_message(notice) == []
