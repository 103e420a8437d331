"""LINE's Messaging API as the channel uses it: reply, push, the loading animation and the rich menu.

Calls go through line-bot-sdk's async client, with a timeout on each; a failure becomes a LineApiError that says
whether trying again can help (429 and 5xx, a timeout, a dropped connection) and how long LINE asked us to wait.
The rich menu image goes to LINE's data host with plain aiohttp, since the SDK cannot be pointed elsewhere for it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from channels.line.outgoing import LineMessage
from channels.line.settings import LineSettings

logger = logging.getLogger(__name__)

# Each call to LINE gives up after this long: the outbox tries again with back-off.
CALL_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)


class LineApiError(Exception):
    """A call to LINE failed: `status` (None when no answer came), whether to retry, and LINE's Retry-After."""

    def __init__(self, reason: str, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after

    @property
    def worth_retrying(self) -> bool:
        """Rate-limited, LINE's own trouble, or no answer: the same request may go through later."""
        return self.status is None or self.status == 429 or self.status >= 500


class LineApi:
    """One client to LINE for the hub's lifetime (open() in the running loop, close() at shutdown)."""

    def __init__(self, settings: LineSettings) -> None:
        self._settings = settings
        self._client: AsyncApiClient | None = None
        self._messaging: AsyncMessagingApi | None = None

    async def open(self) -> None:
        """Create the SDK's client (its HTTP session needs the running loop)."""
        configuration = Configuration(host=str(self._settings.api_url), access_token=self._settings.access_token)
        self._client = AsyncApiClient(configuration)
        self._messaging = AsyncMessagingApi(self._client)

    async def close(self) -> None:
        """Close the client's HTTP session."""
        if self._client is not None:
            await self._client.close()
        self._client = self._messaging = None

    async def reply(self, reply_token: str, messages: list[LineMessage]) -> None:
        """Answer an event with its reply token (valid once, for a short while)."""
        request = self._request("reply", ReplyMessageRequest, {"replyToken": reply_token, "messages": messages})
        await self._call("reply", lambda api: api.reply_message(request, _request_timeout=CALL_TIMEOUT))

    async def push(self, to: str, messages: list[LineMessage], retry_key: str) -> None:
        """Send to a user; the same retry key on a retry lets LINE see it is the same request."""
        request = self._request("push", PushMessageRequest, {"to": to, "messages": messages})
        await self._call(
            "push", lambda api: api.push_message(request, x_line_retry_key=retry_key, _request_timeout=CALL_TIMEOUT)
        )

    async def show_loading(self, chat_id: str, seconds: int) -> None:
        """Show the loading animation in a one-to-one chat until a message arrives or the seconds pass."""
        request = self._request("loading", ShowLoadingAnimationRequest, {"chatId": chat_id, "loadingSeconds": seconds})
        await self._call("loading", lambda api: api.show_loading_animation(request, _request_timeout=CALL_TIMEOUT))

    async def create_rich_menu(self, menu: dict[str, Any]) -> str:
        """Create a rich menu; return its id."""
        request = self._request("richmenu", RichMenuRequest, menu)
        answer = await self._call("richmenu", lambda api: api.create_rich_menu(request, _request_timeout=CALL_TIMEOUT))
        return str(answer.rich_menu_id)

    async def set_default_rich_menu(self, rich_menu_id: str) -> None:
        """Show this rich menu to every user who has no menu of their own."""
        await self._call(
            "richmenu default", lambda api: api.set_default_rich_menu(rich_menu_id, _request_timeout=CALL_TIMEOUT)
        )

    async def upload_rich_menu_image(self, rich_menu_id: str, png: bytes) -> None:
        """Attach the menu's image (PNG) on LINE's data host."""
        url = self._settings.data_api_url.with_path(f"/v2/bot/richmenu/{rich_menu_id}/content")
        headers = {"Authorization": f"Bearer {self._settings.access_token}", "Content-Type": "image/png"}
        try:
            async with (
                aiohttp.ClientSession(timeout=CALL_TIMEOUT) as session,
                session.post(url, data=png, headers=headers) as response,
            ):
                if response.status >= 300:
                    raise LineApiError(f"richmenu image: HTTP {response.status}", response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise LineApiError(f"richmenu image: {type(error).__name__}", None) from error

    async def _call(self, what: str, call: Any) -> Any:
        if self._messaging is None:
            raise LineApiError(f"{what}: the LINE client is not open (the hub is starting or stopping)", None)
        try:
            return await call(self._messaging)
        except ApiException as error:
            raise LineApiError(f"{what}: HTTP {error.status}", error.status, _retry_after(error)) from error
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise LineApiError(f"{what}: {type(error).__name__}", None) from error

    @staticmethod
    def _request(what: str, model: Any, body: dict[str, Any]) -> Any:
        """The SDK's request object; a body it refuses is a LineApiError that no retry can mend."""
        try:
            return model.from_dict(body)
        except (ValueError, TypeError) as error:  # pydantic's ValidationError is a ValueError
            raise LineApiError(f"{what}: the SDK refused the request: {type(error).__name__}", 400) from error


def _retry_after(error: ApiException) -> float | None:
    raw = (error.headers or {}).get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None
