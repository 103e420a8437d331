"""Speech for a message: from the cache when it was said before, else from Google, else from the offline voice.

City-hall networks are often cut off from the internet. Google gets a short time to answer; when it does not
(or fails), the offline voice answers instead, and Google is left alone for a while so that the next messages
do not wait for it too. The resident always hears something.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.hub.speech.reading import for_the_ear
from bot.hub.speech.store import AudioCache, CachedAudio
from bot.hub.speech.voices import Speed, Voice, VoiceFailed

logger = logging.getLogger(__name__)

MAX_SPEECH_CHARS = 500


class NothingToSay(ValueError):
    """The text is empty, or holds nothing a voice would say (only a link)."""


class TextTooLong(ValueError):
    """The text is longer than one message should be."""


class SpeechUnavailable(RuntimeError):
    """No voice could say the text."""


class Speaker:
    """Audio for texts, cached; `primary` (Google) within `primary_timeout` seconds, else `fallback` (offline)."""

    def __init__(
        self,
        cache: AudioCache,
        fallback: Voice,
        primary: Voice | None = None,
        *,
        primary_timeout: float = 2.5,
        primary_rest: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self._fallback = fallback
        self._primary = primary
        self._primary_timeout = primary_timeout
        self._primary_rest = primary_rest
        self._clock = clock
        self._primary_resting_until = 0.0
        # gTTS sets no timeout on its request: a hung request keeps its thread, so Google gets threads of its own.
        self._primary_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gtts")
        self._making: dict[tuple[str, Speed], asyncio.Future[CachedAudio]] = {}

    def close(self) -> None:
        """Stop waiting for Google and close the cache."""
        self._primary_threads.shutdown(wait=False, cancel_futures=True)
        self.cache.close()

    @property
    def voices(self) -> list[Voice]:
        """The voices, the preferred first."""
        return [self._primary, self._fallback] if self._primary is not None else [self._fallback]

    def prepared(self, text: str) -> str:
        """The text as it will be said; NothingToSay or TextTooLong when it cannot be."""
        if len(text) > MAX_SPEECH_CHARS:
            raise TextTooLong(f"at most {MAX_SPEECH_CHARS} characters")
        said = for_the_ear(text)
        if not said:
            raise NothingToSay("nothing to say")
        return said

    async def speak(self, text: str, speed: Speed = "normal", *, fixed: bool = False) -> CachedAudio:
        """The audio for a message as the kiosk shows it; `fixed` keeps it for good (made ahead of time)."""
        said = self.prepared(text)
        for voice in self.voices:
            cached = await asyncio.to_thread(self.cache.get, said, voice.name, speed)
            if cached is not None:
                return cached
        # Two kiosks (or a kiosk and the browser's retry) asking for the same new text share one synthesis.
        making = self._making.get((said, speed))
        if making is None:
            making = asyncio.ensure_future(self._synthesise(said, speed, fixed))
            self._making[(said, speed)] = making
            making.add_done_callback(lambda _: self._making.pop((said, speed), None))
        return await asyncio.shield(making)

    async def _synthesise(self, said: str, speed: Speed, fixed: bool) -> CachedAudio:
        audio = None
        if self._primary is not None and self._clock() >= self._primary_resting_until:
            loop = asyncio.get_running_loop()
            try:
                audio = await asyncio.wait_for(
                    loop.run_in_executor(self._primary_threads, self._primary.synthesise, said, speed),
                    self._primary_timeout,
                )
            except (TimeoutError, VoiceFailed) as failure:
                logger.warning("speech: %s did not answer (%s); the offline voice speaks", self._primary.name, failure)
                self._primary_resting_until = self._clock() + self._primary_rest
        if audio is None:
            try:
                audio = await asyncio.to_thread(self._fallback.synthesise, said, speed)
            except VoiceFailed as failure:
                raise SpeechUnavailable(str(failure)) from failure
        return await asyncio.to_thread(functools.partial(self.cache.put, said, speed, audio, fixed=fixed))
