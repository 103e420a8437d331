"""Say every fixed text once, ahead of time, so that the kiosk starts speaking common answers at once.

`python -m bot.hub.speech.presynthesise [--data-dir var]` fills the audio cache with every response in
domain.yml that has no placeholders, every answer of data/nlu/faq.yml, every step of every procedure as the
guide shows it (for each device), and every other resident-facing text of the procedures. Texts already
cached are skipped, so a second run is quick. Google's voice is used when it answers within the timeout;
without the internet, the offline voice.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from bot.faq import load_faq
from bot.hub.speech.settings import SpeechSettings, cache_dir
from bot.hub.speech.speaker import NothingToSay, Speaker, TextTooLong
from bot.hub.speech.voices import SPEEDS, Speed
from bot.procedures import DEVICES, Procedure, all_texts, load_catalog
from bot.wording import load_wording, render
from channels.kiosk import wording as kiosk_wording


def fixed_texts(wording: dict[str, str], catalog: dict[str, Procedure], answers: Iterable[str] = ()) -> list[str]:
    """Every text the assistant says word for word, each once, in a stable order; the kiosk's own first."""
    texts: list[str] = [*kiosk_wording.OPENING, *kiosk_wording.PAGE.values()]
    texts.extend(text for text in wording.values() if "{" not in text)
    texts.extend(answers)
    for procedure in catalog.values():
        devices: Iterable[str | None] = (None, *DEVICES) if procedure.asks_device else (None,)
        for device in devices:
            steps = procedure.steps_for(device)
            for number, step in enumerate(steps, start=1):
                params = {"number": number, "total": len(steps), "instruction": step.instruction(device)}
                texts.append(render(wording, "guide_step", params))
        texts.extend(text for _, text in all_texts(procedure))
    return list(dict.fromkeys(texts))


async def presynthesise(
    speaker: Speaker, texts: list[str], out: logging.Logger, speeds: tuple[Speed, ...] = ("normal",)
) -> int:
    """Make sure every text is cached at these speeds; returns how many were synthesised now."""
    made = 0
    for index, text in enumerate(texts, start=1):
        for speed in speeds:
            try:
                said = speaker.prepared(text)
            except (NothingToSay, TextTooLong):
                continue
            if any(speaker.cache.get(said, voice.name, speed) for voice in speaker.voices):
                continue
            await speaker.speak(text, speed, fixed=True)
            made += 1
        if index % 100 == 0:
            out.info("%d of %d texts", index, len(texts))
    return made


def main(argv: list[str]) -> int:
    """Fill the cache; prints how many texts were synthesised and how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="the hub's data directory (default: var)")
    parser.add_argument("--slow-too", action="store_true", help="also the slow speed (「ゆっくり」), twice the time")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = SpeechSettings.from_env(os.environ)
    catalog = load_catalog()
    texts = fixed_texts(load_wording(), catalog, [answer.text for answer in load_faq(procedures=catalog).values()])
    speaker = settings.speaker(args.data_dir)
    speeds = SPEEDS if args.slow_too else SPEEDS[:1]
    started = time.perf_counter()
    try:
        made = asyncio.run(presynthesise(speaker, texts, logging.getLogger("presynthesise"), speeds))
    finally:
        speaker.close()
    print(
        f"presynthesise: {len(texts)} fixed texts at {len(speeds)} speed(s), {made} synthesised now, "
        f"{time.perf_counter() - started:.0f} s; cache in {cache_dir(args.data_dir)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
