"""The two voices: Google's (through gTTS, needs the internet) and an offline one (pyopenjtalk), both blocking.

Each voice turns prepared text into audio bytes at a speed, or raises VoiceFailed. They block: the speaker
runs them on worker threads. Neither loads anything or touches the network when this module is imported.
"""

from __future__ import annotations

import functools
import io
import threading
import wave
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from yarl import URL

Speed = Literal["normal", "slow"]
SPEEDS: tuple[Speed, ...] = ("normal", "slow")
# How much slower the offline voice says "slow" text; gTTS has a single slow speed of its own.
OFFLINE_SLOW_FACTOR = 0.75
GOOGLE_URL = "https://translate.google.com"


class VoiceFailed(Exception):
    """The voice gave no audio; the text says why."""


@dataclass(frozen=True)
class Audio:
    """Synthesised speech: the bytes and their media type."""

    data: bytes
    content_type: str
    voice: str


class Voice(Protocol):
    """Something that says prepared Japanese text aloud, as audio bytes."""

    name: str

    def synthesise(self, text: str, speed: Speed) -> Audio:
        """The text spoken at this speed; raise VoiceFailed when it cannot."""


class GoogleVoice:
    """Google's voice through gTTS (MP3). `base_url` points it at another host (a proxy, or a test's fake)."""

    name = "gtts"

    def __init__(self, base_url: str = GOOGLE_URL) -> None:
        self.base_url = URL(base_url)

    def synthesise(self, text: str, speed: Speed) -> Audio:
        """The text as gTTS speaks it; VoiceFailed on any error of the request or the answer."""
        from gtts import gTTSError

        speech = _gtts_at_base_url()(text, lang="ja", slow=speed == "slow", lang_check=False)
        speech.base_url = self.base_url
        try:
            chunks = list(speech.stream())
        except (gTTSError, OSError, ValueError) as error:
            raise VoiceFailed(f"gTTS: {error}") from error
        data = b"".join(chunks)
        if not data:
            raise VoiceFailed("gTTS: the answer held no audio")
        return Audio(data, "audio/mpeg", self.name)


@functools.cache
def _gtts_at_base_url() -> type:
    """gTTS, sending its requests to `base_url` (made on first use: gTTS is imported only when Google is asked)."""
    from gtts import gTTS

    class AtBaseUrl(gTTS):  # type: ignore[misc]  # gTTS ships without type hints
        # gTTS builds its requests for translate.google.<tld>; this keeps its requests and its parsing of the
        # answers, and only changes the host they go to.
        base_url: URL = URL(GOOGLE_URL)

        def _prepare_requests(self) -> list[Any]:
            requests = super()._prepare_requests()
            for request in requests:
                url = URL(request.url)
                base = self.base_url
                request.url = str(url.with_scheme(base.scheme).with_host(base.host or "").with_port(base.explicit_port))
            return requests

    return AtBaseUrl


class OfflineVoice:
    """Open JTalk through pyopenjtalk-plus (WAV, 16-bit mono): its wheel carries the dictionary and the voice."""

    name = "openjtalk"

    def __init__(self) -> None:
        # Open JTalk's engine is one per process and not safe to call from two threads at once.
        self._lock = threading.Lock()

    def synthesise(self, text: str, speed: Speed) -> Audio:
        """The text spoken by Open JTalk; VoiceFailed when it says nothing."""
        import numpy as np
        import pyopenjtalk

        with self._lock:
            samples, rate = pyopenjtalk.tts(text, speed=OFFLINE_SLOW_FACTOR if speed == "slow" else 1.0)
        if len(samples) == 0:
            raise VoiceFailed("Open JTalk: no audio for this text")
        samples, rate = halved(np.asarray(samples, dtype=np.float64), int(rate))
        pcm = np.clip(np.round(samples), -32768, 32767).astype("<i2")
        return Audio(wav_bytes(pcm.tobytes(), rate), "audio/wav", self.name)


def halved(samples: Any, rate: int) -> tuple[Any, int]:
    """Open JTalk's 48 kHz as 24 kHz: speech keeps everything below 12 kHz, and the cache takes half the disk.

    Band-limited by cutting the spectrum in half, so nothing above the new Nyquist frequency folds back.
    """
    import numpy as np

    if rate < 32000:
        return samples, rate
    spectrum = np.fft.rfft(samples)
    half = len(samples) // 2
    return np.fft.irfft(spectrum[: half // 2 + 1], n=half) * (half / len(samples)), rate // 2


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM wrapped as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()
