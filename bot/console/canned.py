"""Canned replies staff can put into the reply box, from a YAML file the city edits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.hub.settings import SettingsError

MAX_TEXT = 1000


@dataclass(frozen=True)
class CannedReply:
    """A ready-made reply: a short title for the list, and the text that goes into the reply box."""

    title: str
    text: str


def load_canned_replies(path: Path) -> tuple[CannedReply, ...]:
    """Read `replies: [{title, text}, …]`; a missing file means none, a malformed one stops the hub."""
    if not path.exists():
        return ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML ({error}); fix the file or remove it") from error
    items = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SettingsError(f"{path}: expected a list under `replies:`, each item with `title` and `text`")
    replies = []
    for number, item in enumerate(items, start=1):
        title = item.get("title") if isinstance(item, dict) else None
        text = item.get("text") if isinstance(item, dict) else None
        if not isinstance(title, str) or not title.strip() or not isinstance(text, str) or not text.strip():
            raise SettingsError(f"{path}: reply {number} needs a non-empty `title` and `text`")
        if len(text) > MAX_TEXT:
            raise SettingsError(f"{path}: reply {number} is longer than {MAX_TEXT} characters; shorten its `text`")
        replies.append(CannedReply(title.strip(), text.strip()))
    return tuple(replies)
