"""Channels are found by name in channels/, created from their settings, and keep the channel contract."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import pytest

import channels
from channels import Channel, ChannelOff, ChannelSettingsError, PushChannel, UnknownChannel, load_channels


def test_the_web_channel_loads_by_name() -> None:
    choice = load_channels(["web"], {})
    [web] = choice.on
    assert isinstance(web, Channel) and web.name == "web"
    # The plain web chat cannot push: later messages wait until the client fetches them.
    assert not isinstance(web, PushChannel)
    assert choice.off == {}


@pytest.mark.parametrize("name", ["telegram", "os", "web.sys", "__init__", ""])
def test_an_unknown_name_is_refused_with_the_choices(name: str) -> None:
    with pytest.raises(UnknownChannel, match=r"choose from .*web"):
        load_channels([name], {})


def fake_module(create: object) -> SimpleNamespace:
    return SimpleNamespace(create=create)


def test_a_channel_without_its_secrets_is_off_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def create(env: Mapping[str, str]) -> Channel:
        if "LINE_CHANNEL_SECRET" not in env:
            raise ChannelOff("set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to switch it on")
        raise AssertionError("not reached")

    real = channels._import_channel_module
    monkeypatch.setattr(channels, "_import_channel_module", lambda n: fake_module(create) if n == "line" else real(n))
    choice = load_channels(["web", "line"], {})
    assert [c.name for c in choice.on] == ["web"]
    assert choice.off == {"line": "set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to switch it on"}


def test_a_wrong_setting_stops_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    def create(env: Mapping[str, str]) -> Channel:
        raise ChannelSettingsError("LINE_CHANNEL_SECRET is 3 characters: copy the 32-character secret")

    monkeypatch.setattr(channels, "_import_channel_module", lambda n: fake_module(create))
    with pytest.raises(ChannelSettingsError, match="LINE_CHANNEL_SECRET"):
        load_channels(["line"], {})


@pytest.mark.parametrize("module", [SimpleNamespace(), fake_module(lambda env: SimpleNamespace(name="other"))])
def test_a_module_breaking_the_contract_is_named(monkeypatch: pytest.MonkeyPatch, module: object) -> None:
    monkeypatch.setattr(channels, "_import_channel_module", lambda n: module)
    with pytest.raises(UnknownChannel, match=r"channels/kiosk\.py"):
        load_channels(["kiosk"], {})
