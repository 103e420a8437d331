"""What the widget itself says to residents, in plain Japanese (やさしい日本語): the opening and the errors."""

from __future__ import annotations

# The opening, shown one message at a time so that it can be read; the last line says what to do first.
OPENING = (
    "こんにちは。マイナンバーカードの手続きを、ご案内します。",
    "マイナンバーや暗証番号は、ここに書かないでください。",
    "こまっていることを、下のらんに短く書いてください。",
    "人と話したいときは、「人と話す」ボタンを押してください。",
)

EMPTY = "メッセージが空です。文字を入れてから、送ってください。"
FAILED = "すみません。送れませんでした。少し待ってから、もう一度送ってください。"
NOT_READY = "うまく送れませんでした。ページを読み込みなおしてください。"
SESSION_OVER = "前の会話は終わっています。新しく始めます。"
OLD_BUTTON = "そのボタンは使えません。文字で書いて、送ってください。"


def too_long(max_chars: int) -> str:
    """The refusal of an over-long message, with the limit."""
    return f"メッセージが長すぎます。{max_chars}文字までにして、送ってください。"
