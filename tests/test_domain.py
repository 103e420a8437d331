"""`rasa data validate` is clean apart from responses that the guidance action says itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.faq import RESPONSE_PREFIX, RETRIEVAL_INTENT
from bot.guide import HUB_INTENTS

ROOT = Path(__file__).resolve().parent.parent
UNUSED = re.compile(r"The utterance '([\w/]+)' is not used in any story or rule\.")
# Rasa adds a retrieval intent to the domain from its responses, and its rules check needs it listed in domain.yml
# too: listing it makes Rasa's merge say it twice. That one warning is expected, for the retrieval intent only.
DUPLICATED = re.compile(r"duplicated intents have been found across multiple domain files: (\w+)$")
NO_EXAMPLES = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU training")


def test_rasa_data_validate_has_only_guide_spoken_responses_unused() -> None:
    rasa = Path(sys.executable).with_name("rasa")
    result = subprocess.run(
        [str(rasa), "data", "validate", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data/nlu", "data/rules.yml"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    # The guide says its responses itself, and bot/contacts.py picks the contact and handoff ones.
    guide_source = "".join((ROOT / "bot" / name).read_text(encoding="utf-8") for name in ("guide.py", "contacts.py"))
    for line in warnings:
        untrained = NO_EXAMPLES.search(line)
        if untrained and untrained.group(1) in HUB_INTENTS:
            continue  # sent only by the hub as "/intent": a resident's words must never be read as it
        duplicated = DUPLICATED.search(line.strip())
        if duplicated and duplicated.group(1) == RETRIEVAL_INTENT:
            continue
        unused = UNUSED.search(line)
        assert unused, f"unexpected validation warning: {line}"
        name = unused.group(1)
        if name.startswith(RESPONSE_PREFIX) or name == RESPONSE_PREFIX.rstrip("/"):
            continue  # an answer of data/nlu/faq.yml: the guide says the one the ResponseSelector chose (bot/faq.py)
        said_by_guide = f'"{name}"' in guide_source or (
            name.startswith("guide_contact_") and 'f"guide_contact_{key}"' in guide_source
        )
        assert said_by_guide, f"response {name} is neither in a rule nor said by the guide; remove it or use it"
