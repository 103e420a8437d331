"""Speech for the kiosk: the reading rules, both voices (Google's against a local fake), the cache, the fallback."""

from __future__ import annotations

import asyncio
import io
import logging
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.hub.speech.presynthesise import fixed_texts, presynthesise
from bot.hub.speech.reading import for_the_ear
from bot.hub.speech.settings import SpeechSettings, SpeechSettingsError
from bot.hub.speech.speaker import NothingToSay, Speaker, TextTooLong
from bot.hub.speech.store import AudioCache
from bot.hub.speech.voices import Audio, GoogleVoice, OfflineVoice, VoiceFailed
from bot.procedures import load_catalog
from bot.wording import load_wording
from channels.kiosk.wording import OPENING
from tests.hub.fake_google_tts import FAKE_MP3, FakeGoogleTTS


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("NFCを使います。", "エヌエフシーを使います。"),
        ("iPhoneで読み取ります。", "アイフォーンで読み取ります。"),
        ("Androidのスマホでも使えます。", "アンドロイドのスマホでも使えます。"),
        ("受付は6:30からです。", "受付は6時30分からです。"),
        ("窓口は8:30〜17:15です。", "窓口は8時30分から17時15分です。"),
        ("９：００に開きます。", "9時に開きます。"),
        (
            "フリーダイヤル0120-95-0178にお電話ください。",
            "フリーダイヤルゼロイチニーゼロ、キューゴー、ゼロイチナナハチ、にお電話ください。",
        ),
        ("QRコードを読み取ってください。", "キューアールコードを読み取ってください。"),
        ("J-LISのページを見てください。", "ジェイリスのページを見てください。"),
        ("くわしくは https://www.kojinbango-card.go.jp/ をご覧ください。", "くわしくは 画面のアドレスをご覧ください。"),
        ("ページ：https://myna.go.jp/", "ページ:"),
        ("申請書IDを入力してください。", "申請書アイディーを入力してください。"),
        ("マイナンバーカードを持ってきてください。", "マイナンバーカードを持ってきてください。"),
    ],
)
def test_text_is_prepared_for_the_ear(text: str, said: str) -> None:
    assert for_the_ear(text) == said


def test_a_bare_link_leaves_nothing_to_say() -> None:
    assert for_the_ear("https://myna.go.jp/") == ""


@pytest.fixture
def google() -> Iterator[FakeGoogleTTS]:
    fake = FakeGoogleTTS().start()
    yield fake
    fake.stop()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[AudioCache]:
    cache = AudioCache.open(tmp_path / "speech")
    yield cache
    cache.close()


@pytest.fixture(scope="module")
def offline() -> OfflineVoice:
    return OfflineVoice()


def test_gtts_asks_google_for_japanese_and_returns_its_mp3(google: FakeGoogleTTS) -> None:
    audio = GoogleVoice(google.url).synthesise("手続きをご案内します。", "slow")
    assert (audio.data, audio.content_type, audio.voice) == (FAKE_MP3, "audio/mpeg", "gtts")
    assert [(r.text, r.lang, r.slow) for r in google.requests] == [("手続きをご案内します。", "ja", True)]


def test_gtts_error_from_google_is_a_failed_voice(google: FakeGoogleTTS) -> None:
    google.mode = "error"
    with pytest.raises(VoiceFailed, match="500"):
        GoogleVoice(google.url).synthesise("こんにちは。", "normal")


def samples_of(wav: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2"), reader.getframerate()


def test_offline_voice_speaks_real_audio_and_slow_is_longer(offline: OfflineVoice) -> None:
    text = "窓口で申請書をもらってください。"
    normal, rate = samples_of(offline.synthesise(text, "normal").data)
    slow, _ = samples_of(offline.synthesise(text, "slow").data)
    seconds = len(normal) / rate
    assert rate == 24000 and 1.0 < seconds < 6.0
    loudness = float(np.sqrt(np.mean(normal.astype(np.float64) ** 2)))
    assert loudness > 500, "the audio is (nearly) silent"
    assert len(slow) > len(normal) * 1.2


async def test_google_answers_and_its_audio_is_cached(
    google: FakeGoogleTTS, cache: AudioCache, offline: OfflineVoice
) -> None:
    speaker = Speaker(cache, offline, GoogleVoice(google.url), primary_timeout=5)
    first = await speaker.speak("iPhoneで読み取ってください。")
    again = await speaker.speak("iPhoneで読み取ってください。")
    assert first.audio.data == again.audio.data == FAKE_MP3
    assert [r.text for r in google.requests] == ["アイフォーンで読み取ってください。"], "the second came from the cache"
    await speaker.speak("iPhoneで読み取ってください。", "slow")
    assert len(google.requests) == 2, "another speed is another entry"
    reopened = AudioCache.open(cache.directory)
    assert reopened.get("アイフォーンで読み取ってください。", "gtts", "normal") is not None
    reopened.close()


@pytest.mark.parametrize("mode", ["slow", "error"])
async def test_when_google_is_slow_or_fails_the_offline_voice_answers(
    mode: str, google: FakeGoogleTTS, cache: AudioCache, offline: OfflineVoice
) -> None:
    google.mode = mode  # type: ignore[assignment]
    google.hang_seconds = 2.0
    now = [100.0]
    speaker = Speaker(cache, offline, GoogleVoice(google.url), primary_timeout=0.5, clock=lambda: now[0])
    spoken = await speaker.speak("写真を用意してください。")
    assert (spoken.audio.voice, spoken.audio.content_type) == ("openjtalk", "audio/wav")
    await speaker.speak("暗証番号を入れてください。")
    assert len(google.requests) == 1, "after a failure Google is left alone for a while"
    now[0] += 61
    google.mode = "ok"
    assert (await speaker.speak("窓口へ行ってください。")).audio.voice == "gtts"
    assert (await speaker.speak("写真を用意してください。")).audio.voice == "openjtalk", "still cached"
    speaker.close()


async def test_speaker_refuses_empty_and_over_long_text(cache: AudioCache, offline: OfflineVoice) -> None:
    speaker = Speaker(cache, offline)
    with pytest.raises(NothingToSay):
        await speaker.speak("  https://myna.go.jp/ ")
    with pytest.raises(TextTooLong):
        await speaker.speak("あ" * 501)
    assert cache.count() == 0


def test_settings_name_the_variable_to_fix() -> None:
    assert SpeechSettings.from_env({}) == SpeechSettings(True, "https://translate.google.com", 2.5)
    assert SpeechSettings.from_env({"SPEECH_GOOGLE": "off"}).google is False
    with pytest.raises(SpeechSettingsError, match="SPEECH_GOOGLE_TIMEOUT"):
        SpeechSettings.from_env({"SPEECH_GOOGLE_TIMEOUT": "soon"})
    with pytest.raises(SpeechSettingsError, match="SPEECH_GOOGLE "):
        SpeechSettings.from_env({"SPEECH_GOOGLE": "maybe"})


def test_the_fixed_texts_are_the_guides_steps_as_shown_and_the_kiosks_opening() -> None:
    catalog = load_catalog()
    texts = fixed_texts(load_wording(), catalog, ["はじめて作るときは、お金はかかりません。"])
    assert texts[: len(OPENING)] == list(OPENING)
    assert "はじめて作るときは、お金はかかりません。" in texts, "the FAQ's answers are said word for word too"
    for procedure in catalog.values():
        steps = procedure.steps_for(None)
        first = steps[0].instruction(None)
        assert f"手順 1つめ（全部で{len(steps)}）\n{first}" in texts, procedure.id
        assert procedure.prepare[0] in texts
    assert not any("{" in text for text in texts)
    assert len(texts) == len(set(texts))


async def test_presynthesis_says_each_text_once_and_skips_what_is_cached(
    google: FakeGoogleTTS, cache: AudioCache, offline: OfflineVoice
) -> None:
    speaker = Speaker(cache, offline, GoogleVoice(google.url))
    texts = ["窓口へ行ってください。", "写真を用意してください。", "https://myna.go.jp/"]
    quiet = logging.getLogger("test")
    assert await presynthesise(speaker, texts, quiet) == 2
    assert await presynthesise(speaker, texts, quiet) == 0
    assert await presynthesise(speaker, texts, quiet, ("normal", "slow")) == 2
    assert [r.slow for r in google.requests] == [False, False, True, True]


async def test_the_same_new_text_asked_twice_at_once_is_synthesised_once(
    google: FakeGoogleTTS, cache: AudioCache, offline: OfflineVoice
) -> None:
    speaker = Speaker(cache, offline, GoogleVoice(google.url))
    first, second = await asyncio.gather(
        speaker.speak("窓口へ行ってください。"), speaker.speak("窓口へ行ってください。")
    )
    assert first.audio.data == second.audio.data == FAKE_MP3
    assert len(google.requests) == 1


def test_text_from_outside_is_kept_up_to_a_limit_and_what_was_made_ahead_stays(tmp_path: Path) -> None:
    cache = AudioCache.open(tmp_path / "speech", spoken_limit=2)
    audio = Audio(FAKE_MP3, "audio/mpeg", "gtts")
    cache.put("窓口へ行ってください。", "normal", audio, fixed=True)
    for text in ("あ", "い", "う"):
        cache.put(text, "normal", audio)
    assert cache.get("あ", "gtts", "normal") is None, "the oldest spoken text went first"
    assert all(cache.get(text, "gtts", "normal") for text in ("い", "う", "窓口へ行ってください。"))
    assert len(list((tmp_path / "speech").glob("*.mp3"))) == 3, "its file went with it"
    cache.close()
