"""LINE webhook events, read with line-bot-sdk's models, as the few facts the channel acts on.

What is kept of an event is only what its handling needs: no location, no file, no profile. A text's words are
redacted by the core before they are kept (see webhook.py).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Literal

from linebot.v3.webhooks import (
    AudioMessageContent,
    Event,
    FileMessageContent,
    FollowEvent,
    GroupSource,
    ImageMessageContent,
    JoinEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    UnsendEvent,
    UserSource,
    VideoMessageContent,
)

logger = logging.getLogger(__name__)

Kind = Literal[
    "text", "sticker", "image", "video", "audio", "file", "location", "postback", "follow", "unfollow", "unsend",
    "join", "unknown",
]  # fmt: skip
SourceType = Literal["user", "group", "room", "unknown"]

_MEDIA: dict[type, Kind] = {
    StickerMessageContent: "sticker",
    ImageMessageContent: "image",
    VideoMessageContent: "video",
    AudioMessageContent: "audio",
    FileMessageContent: "file",
    LocationMessageContent: "location",
}


@dataclass(frozen=True)
class LineEvent:
    """One webhook event as the channel handles it. `chat_id` is where answers go: the user, group or room."""

    event_id: str
    kind: Kind
    source: SourceType
    user_id: str | None
    chat_id: str | None
    reply_token: str | None = None
    timestamp_ms: int = 0
    redelivery: bool = False
    message_id: str | None = None
    text: str | None = None
    redacted: bool = False
    postback_data: str | None = None
    type_name: str = ""

    def as_body(self) -> dict[str, Any]:
        """The event as kept in the hub's inbox."""
        return asdict(self)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> LineEvent:
        """The event back from the inbox."""
        return cls(**body)


def read_event(raw: dict[str, Any]) -> LineEvent | None:
    """The facts of one event of a webhook body; None when it has no webhookEventId (nothing to deduplicate on)."""
    event_id = raw.get("webhookEventId")
    if not isinstance(event_id, str) or not event_id:
        logger.warning("line: an event of type %r has no webhookEventId; skipped", raw.get("type"))
        return None
    type_name = str(raw.get("type"))[:40]
    try:
        event = Event.from_dict(raw)
    except Exception:  # the SDK raises ValueError or pydantic's errors for types and shapes it does not know
        logger.info("line: event %s of type %r is not one the channel knows; logged only", event_id, type_name)
        return LineEvent(event_id, "unknown", *_raw_source(raw), type_name=type_name)
    source, user_id, chat_id = _source(event.source)
    common: dict[str, Any] = {
        "event_id": event_id,
        "source": source,
        "user_id": user_id,
        "chat_id": chat_id,
        "reply_token": getattr(event, "reply_token", None),
        "timestamp_ms": int(event.timestamp or 0),
        "redelivery": bool(event.delivery_context and event.delivery_context.is_redelivery),
        "type_name": type_name,
    }
    if isinstance(event, MessageEvent):
        content = event.message
        if isinstance(content, TextMessageContent):
            return LineEvent(kind="text", message_id=content.id, text=content.text, **common)
        kind: Kind = next((k for cls, k in _MEDIA.items() if isinstance(content, cls)), "unknown")
        return LineEvent(kind=kind, message_id=getattr(content, "id", None), **common)
    if isinstance(event, PostbackEvent):
        return LineEvent(kind="postback", postback_data=event.postback.data, **common)
    if isinstance(event, UnsendEvent):
        return LineEvent(kind="unsend", message_id=event.unsend.message_id, **common)
    kinds: dict[type, Kind] = {FollowEvent: "follow", UnfollowEvent: "unfollow", JoinEvent: "join"}
    return LineEvent(kind=kinds.get(type(event), "unknown"), **common)


def _source(source: object) -> tuple[SourceType, str | None, str | None]:
    if isinstance(source, UserSource):
        return "user", source.user_id, source.user_id
    if isinstance(source, GroupSource):
        return "group", source.user_id, source.group_id
    if isinstance(source, RoomSource):
        return "room", source.user_id, source.room_id
    return "unknown", None, None


def _raw_source(raw: dict[str, Any]) -> tuple[SourceType, str | None, str | None]:
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    assert isinstance(source, dict)
    kind = source.get("type")
    user_id = source.get("userId") if isinstance(source.get("userId"), str) else None
    if kind == "user":
        return "user", user_id, user_id
    if kind in ("group", "room"):
        chat_id = source.get(f"{kind}Id")
        return kind, user_id, chat_id if isinstance(chat_id, str) else None
    return "unknown", user_id, None
