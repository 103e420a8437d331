"""LINE's side of the webhook: events shaped as the Messaging API reference shows them, signed with the secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.channels.fake_line_api import FakeLineApi

CHANNEL_SECRET = "0123456789abcdef0123456789abcdef"


def sign(body: bytes, secret: str = CHANNEL_SECRET) -> str:
    """The X-Line-Signature LINE sends: base64 of the HMAC-SHA256 of the body under the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_body(*events: dict[str, Any]) -> bytes:
    """A webhook request body with these events (none: LINE's verification call)."""
    body = {"destination": "Ub0f5a0e9d1c2b3a4f5e6d7c8b9a01234", "events": list(events)}
    return json.dumps(body, ensure_ascii=False).encode()


def _event(kind: str, user_id: str, *, source: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": source or {"type": "user", "userId": user_id},
        "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
    }
    event.update(fields)
    return event


def text_event(api: FakeLineApi, user_id: str, text: str, **fields: Any) -> dict[str, Any]:
    """A resident's text message."""
    message = {"id": str(uuid.uuid4().int)[:18], "type": "text", "quoteToken": uuid.uuid4().hex, "text": text}
    return _event("message", user_id, replyToken=api.reply_token(user_id), message=message, **fields)


def sticker_event(api: FakeLineApi, user_id: str) -> dict[str, Any]:
    """A resident's sticker."""
    message = {
        "id": str(uuid.uuid4().int)[:18], "type": "sticker", "quoteToken": uuid.uuid4().hex,
        "stickerId": "52002734", "packageId": "11537", "stickerResourceType": "STATIC", "keywords": ["Thanks"],
    }  # fmt: skip
    return _event("message", user_id, replyToken=api.reply_token(user_id), message=message)


def media_event(api: FakeLineApi, user_id: str, kind: str) -> dict[str, Any]:
    """A picture, video, voice message, file or place."""
    message: dict[str, Any] = {"id": str(uuid.uuid4().int)[:18], "type": kind}
    if kind in ("image", "video", "audio"):
        message["contentProvider"] = {"type": "line"}
    if kind in ("image", "video"):
        message["quoteToken"] = uuid.uuid4().hex
    if kind in ("video", "audio"):
        message["duration"] = 6000
    if kind == "file":
        message.update(fileName="申請書.pdf", fileSize=2138)
    if kind == "location":
        message.update(title="市役所", address="東京都千代田区1-1", latitude=35.68, longitude=139.76)
    return _event("message", user_id, replyToken=api.reply_token(user_id), message=message)


def postback_event(api: FakeLineApi, user_id: str, data: str) -> dict[str, Any]:
    """A tapped postback button (a quick reply or the rich menu)."""
    return _event("postback", user_id, replyToken=api.reply_token(user_id), postback={"data": data})


def follow_event(api: FakeLineApi, user_id: str) -> dict[str, Any]:
    """The resident added the account as a friend."""
    return _event("follow", user_id, replyToken=api.reply_token(user_id), follow={"isUnblocked": False})


def unfollow_event(user_id: str) -> dict[str, Any]:
    """The resident blocked the account (no reply token)."""
    return _event("unfollow", user_id)


def unsend_event(user_id: str, message_id: str) -> dict[str, Any]:
    """The resident took a message back."""
    return _event("unsend", user_id, unsend={"messageId": message_id})


def group_text_event(api: FakeLineApi, group_id: str, user_id: str, text: str) -> dict[str, Any]:
    """A message in a group the account was invited to."""
    message = {"id": str(uuid.uuid4().int)[:18], "type": "text", "quoteToken": uuid.uuid4().hex, "text": text}
    source = {"type": "group", "groupId": group_id, "userId": user_id}
    return _event("message", user_id, source=source, replyToken=api.reply_token(group_id), message=message)
