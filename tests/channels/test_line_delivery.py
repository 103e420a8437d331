"""Delivery to LINE: at most 5 objects a request, long text split by UTF-16 units at sentence ends and never
inside an emoji, quick-reply limits, and LINE failing (500, 429 with Retry-After, 409 on a retried push)."""

from __future__ import annotations

import time

import pytest

from bot.hub.messages import BotMessage, QuickReply
from channels.line.api import LineApi, LineApiError
from channels.line.outgoing import MAX_TEXT_UNITS, batches, line_messages, split_text, utf16_units
from channels.line.settings import LineSettings
from tests.channels.fake_line_api import (
    Failure,
    FakeLineApi,
    LineHub,
    eventually,
    line_api_fixture,
    line_env,
    line_hub_fixture,
    make_line_hub_fixture,
)
from tests.channels.fake_line_events import text_event
from tests.hub.fake_engine import FakeEngine

__all__ = ["line_api_fixture", "line_hub_fixture", "make_line_hub_fixture"]

USER = "U9f3c1a2b3c4d5e6f7a8b9c0d1e2f3a4b"
PUSH = "/v2/bot/message/push"
REPLY = "/v2/bot/message/reply"
# Emoji outside the BMP (two UTF-16 units each), one joined with ZWJ, a flag and a skin tone.
FAMILY = "👨\u200d👩\u200d👧"
EMOJI = ["😀", FAMILY, "🇯🇵", "👍🏽", "1\ufe0f\u20e3"]


def late_event(api: FakeLineApi, text: str) -> dict[str, object]:
    """An event whose reply token has expired (redelivered two minutes later): the answer must be pushed."""
    event = text_event(api, USER, text)
    event["timestamp"] = int((time.time() - 120) * 1000)
    event["deliveryContext"] = {"isRedelivery": True}
    return event


# The splitting rules on their own


@pytest.mark.parametrize("emoji", EMOJI)
def test_long_text_without_sentence_ends_is_cut_between_whole_emoji(emoji: str) -> None:
    text = "あ" + emoji * 3000
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(utf16_units(piece) <= MAX_TEXT_UNITS for piece in pieces)
    # Every piece after the first is made of whole emoji only.
    assert all(piece.replace(emoji, "") == "" for piece in pieces[1:])


def test_long_text_is_cut_at_the_last_sentence_end_that_fits() -> None:
    sentence = "マイナンバーカードの受け取りには、本人確認書類が必要です。"
    text = sentence * 200 + "😀" * 100
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert len(pieces) >= 2 and all(piece.endswith("。") for piece in pieces[:-1])
    assert all(utf16_units(piece) <= MAX_TEXT_UNITS for piece in pieces)


def test_a_closing_bracket_stays_with_its_sentence() -> None:
    text = "「はい」を押してください。」" + "い" * 10
    assert split_text(text, limit=16) == ["「はい」を押してください。」", "い" * 10]


def test_quick_replies_go_on_the_last_object_within_limits() -> None:
    replies = [QuickReply(f"選択肢その{n}・マイナポータルにログインする", f"q4.{n}") for n in range(15)]
    objects = line_messages([BotMessage("一つ目。"), BotMessage("二つ目。" * 2000, replies)])
    assert [("quickReply" in o) for o in objects] == [False] * (len(objects) - 1) + [True]
    items = objects[-1]["quickReply"]["items"]
    assert len(items) == 13
    assert all(len(item["action"]["label"]) <= 20 for item in items)
    assert items[0]["action"]["displayText"] == replies[0].title and items[0]["action"]["data"] == "q4.0"
    assert [len(b) for b in batches(objects * 3)] == [5] * (len(objects * 3) // 5) + (
        [len(objects * 3) % 5] if len(objects * 3) % 5 else []
    )


# Against the running hub and the fake LINE API


async def test_more_than_5_messages_go_in_requests_of_at_most_5(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    fake_engine.buttons = [{"title": "できました", "payload": "/done"}]
    fake_engine.extra_items = [{"recipient_id": "x", "text": f"手順{n}です。"} for n in range(1, 7)]
    await line_hub.post(text_event(line_api, USER, "確定申告の準備"))
    await line_hub.settled()
    [reply] = line_api.calls(REPLY)
    [push] = line_api.calls(PUSH)
    assert len(reply.body["messages"]) == 5 and len(push.body["messages"]) == 2
    assert line_api.texts_to(USER) == ["echo: 確定申告の準備", *[f"手順{n}です。" for n in range(1, 7)]]
    has_buttons = ["quickReply" in m for m in line_api.messages_to(USER)]
    assert has_buttons == [False] * 6 + [True]


async def test_an_answer_over_5000_units_with_emoji_is_split_correctly(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    long_text = ("ご案内です😀。" * 800) + FAMILY * 400
    fake_engine.answer = [{"recipient_id": "x", "text": long_text}]
    await line_hub.post(text_event(line_api, USER, "くわしく教えて"))
    await line_hub.settled()
    texts = line_api.texts_to(USER)
    assert "".join(texts) == long_text
    assert len(texts) >= 2 and all(utf16_units(t) <= MAX_TEXT_UNITS for t in texts)
    assert texts[0].endswith("。")


async def test_line_answering_500_then_200_delivers_once(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    line_api.fail(PUSH, Failure(500))
    await line_hub.post(late_event(line_api, "運転免許証の住所変更"))
    await line_hub.settled()
    first, second = line_api.calls(PUSH)
    assert first.headers["X-Line-Retry-Key"] == second.headers["X-Line-Retry-Key"]
    assert line_api.texts_to(USER) == ["echo: 運転免許証の住所変更"]


async def test_a_retried_push_that_line_had_accepted_gets_409_and_counts_as_delivered(
    line_hub: LineHub, line_api: FakeLineApi
) -> None:
    line_api.fail(PUSH, Failure(503, accepted=True))
    await line_hub.post(late_event(line_api, "健康保険証として使いたい"))
    await line_hub.settled()
    assert len(line_api.calls(PUSH)) == 2  # the retry got 409, and no third push followed
    assert line_api.texts_to(USER) == ["echo: 健康保険証として使いたい"]
    assert line_hub.undelivered() == 0


async def test_429_with_retry_after_backs_off_and_loses_nothing(
    line_hub: LineHub, fake_engine: FakeEngine, line_api: FakeLineApi
) -> None:
    line_api.fail(PUSH, Failure(429, retry_after=1), Failure(429, retry_after=1))
    await line_hub.post(late_event(line_api, "一つ目の質問"), late_event(line_api, "二つ目の質問"))
    await line_hub.settled()
    assert line_api.texts_to(USER) == ["echo: 一つ目の質問", "echo: 二つ目の質問"]
    assert len(line_api.calls(PUSH)) >= 3  # refused twice, then what was held back went through, once


async def test_an_expired_reply_token_falls_back_to_push(line_hub: LineHub, line_api: FakeLineApi) -> None:
    await line_hub.post(late_event(line_api, "コンビニで住民票"))
    await line_hub.settled()
    assert line_api.calls(REPLY) == []
    assert [d.how for d in line_api.delivered] == ["push"]


async def test_a_reply_token_refused_by_line_falls_back_to_push(line_hub: LineHub, line_api: FakeLineApi) -> None:
    event = text_event(line_api, USER, "こんにちは")
    event["replyToken"] = "00000000000000000000000000000000"  # not one LINE issued
    await line_hub.post(event)
    await line_hub.settled()
    assert [d.how for d in line_api.delivered] == ["push"]
    assert line_api.texts_to(USER) == ["echo: こんにちは"]


async def test_retry_after_holds_every_push_back_until_it_has_passed(
    line_hub: LineHub, line_api: FakeLineApi, caplog: pytest.LogCaptureFixture
) -> None:
    line_api.fail(PUSH, Failure(429, retry_after=3600))
    await line_hub.post(late_event(line_api, "マイナ保険証の登録"))
    await line_hub.channel.events.worker.idle()
    # The outbox tries again after its own back-off; the channel keeps LINE's hour and does not call it.
    await eventually(lambda: "Retry-After" in caplog.text, "the outbox to try again")
    assert len(line_api.calls(PUSH)) == 1
    assert line_api.delivered == [] and line_hub.undelivered() == 1


async def test_a_request_the_sdk_refuses_is_a_permanent_failure_not_a_crash(line_api: FakeLineApi) -> None:
    settings = LineSettings.from_env(line_env(line_api))
    api = LineApi(settings)
    await api.open()
    try:
        with pytest.raises(LineApiError) as refused:
            await api.push(USER, [{"type": "text"}], "123e4567-e89b-12d3-a456-426614174000")
    finally:
        await api.close()
    assert refused.value.status == 400 and not refused.value.worth_retrying
    assert line_api.requests == []
