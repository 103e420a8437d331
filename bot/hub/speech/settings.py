"""Speech settings from the environment, checked when the hub starts: Google on or off, where, and how long to wait."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.hub.speech.speaker import Speaker
from bot.hub.speech.store import AudioCache
from bot.hub.speech.voices import GOOGLE_URL, GoogleVoice, OfflineVoice


class SpeechSettingsError(ValueError):
    """A speech setting is present but unusable; the text names the variable and the fix."""


@dataclass(frozen=True)
class SpeechSettings:
    """SPEECH_GOOGLE (on/off), SPEECH_GOOGLE_URL (a proxy or stand-in), SPEECH_GOOGLE_TIMEOUT (seconds)."""

    google: bool = True
    google_url: str = GOOGLE_URL
    google_timeout: float = 2.5

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SpeechSettings:
        """Read and check the variables; unset ones take their defaults."""
        google = env.get("SPEECH_GOOGLE", "on").strip().lower()
        if google not in ("on", "off"):
            raise SpeechSettingsError(f"SPEECH_GOOGLE is {google!r}: set it to on or off (off: the offline voice only)")
        url = env.get("SPEECH_GOOGLE_URL", "").strip() or GOOGLE_URL
        if not url.startswith(("http://", "https://")):
            raise SpeechSettingsError(f"SPEECH_GOOGLE_URL is {url!r}: give an http(s) address such as {GOOGLE_URL}")
        raw_timeout = env.get("SPEECH_GOOGLE_TIMEOUT", "").strip() or "2.5"
        try:
            timeout = float(raw_timeout)
        except ValueError:
            timeout = 0.0
        if not 0 < timeout <= 30:
            raise SpeechSettingsError(f"SPEECH_GOOGLE_TIMEOUT is {raw_timeout!r}: give seconds between 0.1 and 30")
        return cls(google == "on", url, timeout)

    def speaker(self, data_dir: Path) -> Speaker:
        """A speaker with these settings, its cache opened in the hub's data directory (blocking: a thread)."""
        primary = GoogleVoice(self.google_url) if self.google else None
        cache = AudioCache.open(cache_dir(data_dir))
        return Speaker(cache, OfflineVoice(), primary, primary_timeout=self.google_timeout)


def cache_dir(data_dir: Path) -> Path:
    """Where the audio cache lives inside the hub's data directory."""
    return data_dir / "speech"
