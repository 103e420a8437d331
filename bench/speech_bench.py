"""How fast the kiosk starts speaking: cached speech through the hub, and the offline voice on new text.

Runs the real hub in this process (kiosk channel only, the offline voice only, `SPEECH_GOOGLE=off`) in front of
the tests' fake engine, on loopback. Times, for a message already in the cache, a GET of the speech endpoint
until the first bytes of audio arrive (target ≤ 20 ms); and, for typical 40-character answers from the
procedures never said before, the offline voice's synthesis time and its real-time factor (synthesis time ÷
length of the audio; target ≤ 0.3). Writes bench/results/speech.json. Run with the hub environment: `make bench`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.hub.app import create_app  # noqa: E402
from bot.hub.speech.presynthesise import fixed_texts  # noqa: E402
from bot.hub.speech.reading import for_the_ear  # noqa: E402
from bot.hub.speech.voices import OfflineVoice  # noqa: E402
from bot.procedures import load_catalog  # noqa: E402
from bot.wording import load_wording  # noqa: E402
from tests.hub.fake_engine import FakeEngine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "speech.json"
CACHED_REQUESTS = 200
NEW_TEXTS = 12
TYPICAL_CHARACTERS = range(36, 45)
CACHED_TARGET_MS = 20.0
RTF_TARGET = 0.3


def typical_answers() -> list[str]:
    """Answers of about 40 characters, as the procedures word them."""
    texts = fixed_texts(load_wording(), load_catalog())
    return [text for text in texts if len(text) in TYPICAL_CHARACTERS and "\n" not in text][:NEW_TEXTS]


def seconds_of(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getnframes() / reader.getframerate()


def offline_synthesis(texts: list[str]) -> dict[str, Any]:
    """Each text said once by the offline voice, after one warm-up (the dictionary loads on first use)."""
    voice = OfflineVoice()
    voice.synthesise("こんにちは。", "normal")
    runs = []
    for text in texts:
        started = time.perf_counter()
        audio = voice.synthesise(for_the_ear(text), "normal")
        took = time.perf_counter() - started
        length = seconds_of(audio.data)
        runs.append({"characters": len(text), "synthesis_ms": took * 1000, "audio_s": length, "rtf": took / length})
    return {
        "texts": len(runs),
        "synthesis_median_ms": statistics.median(r["synthesis_ms"] for r in runs),
        "synthesis_max_ms": max(r["synthesis_ms"] for r in runs),
        "audio_median_s": statistics.median(r["audio_s"] for r in runs),
        "rtf_median": statistics.median(r["rtf"] for r in runs),
        "rtf_max": max(r["rtf"] for r in runs),
        "runs": runs,
    }


async def cached_first_audio(text: str) -> dict[str, Any]:
    """Time to the first audio bytes from the hub's speech endpoint, for a text already cached."""

    async def serve(app: web.Application, host: str = "127.0.0.1") -> TestServer:
        server = TestServer(app, host=host)
        await server.start_server()
        return server

    engine = FakeEngine()
    await engine.start(serve)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as data_dir:
        settings = dataclasses.replace(engine.hub_settings(Path(data_dir)), channels=("kiosk",))
        hub = await serve(create_app(settings, env={"SPEECH_GOOGLE": "off"}))
        url = str(hub.make_url("/channels/kiosk/speech"))
        timings = []
        async with aiohttp.ClientSession() as session:
            async with session.get(url, params={"text": text}) as first:
                assert first.status == 200, await first.text()
                await first.read()
            for _ in range(CACHED_REQUESTS):
                started = time.perf_counter()
                async with session.get(url, params={"text": text}) as answer:
                    chunk = await answer.content.readany()
                    timings.append((time.perf_counter() - started) * 1000)
                    assert answer.status == 200 and chunk
                    await answer.read()
        await hub.close()
    await engine.stop()
    timings.sort()
    return {
        "requests": len(timings),
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "max_ms": timings[-1],
    }


def main() -> int:
    texts = typical_answers()
    load_before = os.getloadavg()
    offline = offline_synthesis(texts)
    cached = asyncio.run(cached_first_audio(texts[0]))
    results = {
        "cached_first_audio": cached,
        "offline_synthesis": offline,
        "targets": {"cached_first_audio_ms": CACHED_TARGET_MS, "rtf": RTF_TARGET},
        "met": {
            "cached_first_audio": cached["p95_ms"] <= CACHED_TARGET_MS,
            "rtf": offline["rtf_max"] <= RTF_TARGET,
        },
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "cpus": os.cpu_count(),
    }
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"cached, time to first audio: median {cached['median_ms']:.1f} ms, p95 {cached['p95_ms']:.1f} ms "
        f"(target ≤ {CACHED_TARGET_MS:.0f} ms)\n"
        f"offline voice, {offline['texts']} new answers of about 40 characters: synthesis median "
        f"{offline['synthesis_median_ms']:.0f} ms for {offline['audio_median_s']:.1f} s of audio; real-time factor "
        f"median {offline['rtf_median']:.3f}, max {offline['rtf_max']:.3f} (target ≤ {RTF_TARGET})\n"
        f"load average {load_before[0]:.2f} → {results['load_average']['after'][0]:.2f}; saved {RESULTS}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
