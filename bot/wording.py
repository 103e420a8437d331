"""The assistant's fixed wording (the responses in domain.yml), rendered as the resident reads it.

The action server lets Rasa fill the templates; the guide renders them too, to keep each turn
within the per-turn limits, and so do the tests and the staff report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_FILE = ROOT / "domain.yml"


class WordingError(ValueError):
    """domain.yml has no usable responses."""


def load_wording(path: Path = DOMAIN_FILE) -> dict[str, str]:
    """Response name → its (first) text template."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise WordingError(f"{path}: cannot be read ({error}).") from error
    responses = data.get("responses") if isinstance(data, dict) else None
    if not isinstance(responses, dict):
        raise WordingError(f"{path}: expected a 'responses:' mapping.")
    wording: dict[str, str] = {}
    for name, variants in responses.items():
        if not isinstance(variants, list) or not variants or not isinstance(variants[0].get("text"), str):
            raise WordingError(f"{path}: response '{name}' needs a text.")
        wording[name] = variants[0]["text"]
    return wording


def render(wording: dict[str, str], response: str, params: dict[str, Any]) -> str:
    """A response as the resident reads it, parameters filled in the way Rasa fills them."""
    return wording[response].format(**params)
