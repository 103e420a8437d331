"""Channels are found by name in channels/ and must keep the channel contract."""

from __future__ import annotations

import pytest

from channels import Channel, UnknownChannel, load_channels


def test_the_web_channel_loads_by_name() -> None:
    [web] = load_channels(["web"])
    assert isinstance(web, Channel)
    assert web.name == "web"


@pytest.mark.parametrize("name", ["telegram", "os", "web.sys", "__init__", ""])
def test_an_unknown_name_is_refused_with_the_choices(name: str) -> None:
    with pytest.raises(UnknownChannel, match=r"choose from .*web"):
        load_channels([name])
