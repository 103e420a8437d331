"""The LINE channel's settings, the hub refusing bad ones, and the rich menu command against the fake LINE API."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pytest_aiohttp import AiohttpServer

from bot.hub.app import create_app
from bot.launcher import Stack, channels_off
from channels import ChannelOff, ChannelSettingsError, PushChannel, load_channels
from channels.line.channel import LineChannel
from channels.line.settings import LINE_API, LINE_DATA_API, LineSettings
from tests.channels.fake_line_api import ACCESS_TOKEN, FakeLineApi, line_api_fixture, line_env
from tests.channels.fake_line_events import CHANNEL_SECRET
from tests.hub.fake_engine import FakeEngine

__all__ = ["line_api_fixture"]

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"LINE_CHANNEL_SECRET": CHANNEL_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_without_a_secret_the_channel_is_off_with_a_one_line_reason() -> None:
    choice = load_channels(["line"], {"LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN})
    assert choice.on == []
    assert "LINE_CHANNEL_SECRET" in choice.off["line"] and "\n" not in choice.off["line"]


def test_with_its_settings_the_channel_is_on_and_can_push() -> None:
    [channel] = load_channels(["line"], GOOD).on
    assert isinstance(channel, LineChannel) and isinstance(channel, PushChannel)
    assert channel.settings.api_url == LINE_API and channel.settings.data_api_url == LINE_DATA_API
    assert CHANNEL_SECRET not in repr(channel.settings) and ACCESS_TOKEN not in repr(channel.settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**GOOD, "LINE_CHANNEL_SECRET": "abc"}, "LINE_CHANNEL_SECRET"),
        ({**GOOD, "LINE_CHANNEL_SECRET": "Z" * 32}, "LINE_CHANNEL_SECRET"),
        ({"LINE_CHANNEL_SECRET": CHANNEL_SECRET}, "LINE_CHANNEL_ACCESS_TOKEN"),
        ({**GOOD, "LINE_CHANNEL_ACCESS_TOKEN": "two words"}, "LINE_CHANNEL_ACCESS_TOKEN"),
        ({**GOOD, "LINE_API_BASE_URL": "api.line.me"}, "LINE_API_BASE_URL"),
        ({**GOOD, "LINE_API_BASE_URL": "ftp://api.line.me"}, "LINE_API_BASE_URL"),
        ({**GOOD, "LINE_API_BASE_URL": "http://127.0.0.1:9/?x=1"}, "LINE_API_BASE_URL"),
    ],
)
def test_a_wrong_setting_is_named_at_start_up(env: dict[str, str], named: str) -> None:
    with pytest.raises(ChannelSettingsError, match=named):
        LineSettings.from_env(env)


def test_a_test_base_url_serves_both_of_lines_hosts() -> None:
    settings = LineSettings.from_env({**GOOD, "LINE_API_BASE_URL": "http://127.0.0.1:8123/"})
    assert str(settings.api_url) == str(settings.data_api_url) == "http://127.0.0.1:8123"


async def test_the_hub_says_in_one_line_that_line_is_off(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "HUB_", "ENGINE_"))}
    env.update(ENGINE_TOKEN="t", HUB_CHANNELS="web,line", HUB_PORT=str(free_port()), DATA_DIR=str(tmp_path))
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.hub", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        second = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    finally:
        process.terminate()
        await process.wait()
    assert first.startswith("hub: channel line is off: LINE_CHANNEL_SECRET is not set")
    assert "channels: web;" in second


def test_the_menu_image_is_drawn_offline_at_lines_size() -> None:
    from channels.line.rich_menu import HEIGHT, WIDTH, menu_image

    png = menu_image()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) and len(png) < 1024 * 1024
    # The words are drawn: the panels are not a flat colour.
    assert len(image.getcolors(maxcolors=100_000) or []) > 10


async def test_the_rich_menu_command_creates_the_menu_on_line(line_api: FakeLineApi, tmp_path: Path) -> None:
    env = {**os.environ, **line_env(line_api), "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "channels.line", "rich-menu", "--image-out", str(tmp_path / "menu.png"),
        env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    [(menu_id, menu)] = line_api.rich_menus.items()
    assert f"created rich menu {menu_id}" in out.decode()
    assert [area["action"]["label"] for area in menu["areas"]] == ["手続きをはじめる", "人と話す", "使い方"]
    assert [area["action"]["data"] for area in menu["areas"]] == ["menu.start", "menu.person", "menu.help"]
    assert line_api.rich_menu_images[menu_id] == (tmp_path / "menu.png").read_bytes()
    assert line_api.default_rich_menu == menu_id


async def test_the_rich_menu_command_without_settings_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "channels.line", "rich-menu",
        env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 2 and "LINE_CHANNEL_SECRET" in err.decode()


def test_channel_off_is_the_exception_for_a_missing_secret() -> None:
    with pytest.raises(ChannelOff):
        LineSettings.from_env({})


def test_make_run_lists_line_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HUB_CHANNELS", raising=False)
    assert Stack(data_dir=tmp_path, token="t").environments()["hub"]["HUB_CHANNELS"] == "web,widget,kiosk,line"
    monkeypatch.setenv("HUB_CHANNELS", "web")
    assert Stack(data_dir=tmp_path, token="t").environments()["hub"]["HUB_CHANNELS"] == "web"


async def test_make_run_prints_why_line_is_off(
    aiohttp_server: AiohttpServer, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    settings = replace(fake_engine.hub_settings(tmp_path / "var"), channels=("web", "line"))
    server = await aiohttp_server(create_app(settings, env={}), host="127.0.0.1")
    url = str(server.make_url("")).rstrip("/")
    off = await asyncio.get_running_loop().run_in_executor(None, channels_off, url)
    assert list(off) == ["line"] and off["line"].startswith("LINE_CHANNEL_SECRET is not set")


def test_make_run_gives_lines_secrets_to_the_hub_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LINE_CHANNEL_SECRET", CHANNEL_SECRET)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", ACCESS_TOKEN)
    environments = Stack(data_dir=tmp_path, token="t").environments()
    assert environments["hub"]["LINE_CHANNEL_SECRET"] == CHANNEL_SECRET
    assert environments["hub"]["LINE_CHANNEL_ACCESS_TOKEN"] == ACCESS_TOKEN
    for child in ("engine", "actions"):
        assert not any(value in (CHANNEL_SECRET, ACCESS_TOKEN) for value in environments[child].values()), child
