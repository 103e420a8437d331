"""The kiosk's settings from the environment, checked when the hub starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.hub.speech.settings import SpeechSettings, SpeechSettingsError
from channels import ChannelSettingsError

IDLE_VARIABLE = "KIOSK_IDLE_SECONDS"
ANSWER_VARIABLE = "KIOSK_ANSWER_SECONDS"
LISTEN_VARIABLE = "KIOSK_SPEECH_TO_TEXT_URL"


@dataclass(frozen=True)
class KioskSettings:
    """How long a kiosk waits before asking 「続けますか？」, how long for the answer, and the voices."""

    idle_seconds: int = 120
    answer_seconds: int = 20
    # An operator's speech-to-text service for browsers without speech recognition: it takes the recorded
    # audio as the POST body and answers {"text": "..."}. None: only the browser's own recognition.
    speech_to_text_url: str | None = None
    speech: SpeechSettings = field(default_factory=SpeechSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KioskSettings:
        """Read KIOSK_IDLE_SECONDS, KIOSK_ANSWER_SECONDS, KIOSK_SPEECH_TO_TEXT_URL and the SPEECH_ variables."""
        idle = _seconds(env, IDLE_VARIABLE, 120, lowest=30)
        answer = _seconds(env, ANSWER_VARIABLE, 20, lowest=5)
        url = env.get(LISTEN_VARIABLE, "").strip() or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise ChannelSettingsError(
                f"{LISTEN_VARIABLE} is {url!r}: give the http(s) address of a speech-to-text service, or leave it unset"
            )
        try:
            speech = SpeechSettings.from_env(env)
        except SpeechSettingsError as error:
            raise ChannelSettingsError(str(error)) from error
        return cls(idle, answer, url, speech)


def _seconds(env: Mapping[str, str], name: str, default: int, *, lowest: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= 3600:
        raise ChannelSettingsError(
            f"{name} is {raw!r}: give whole seconds between {lowest} and 3600 (default {default})"
        )
    return int(raw)
