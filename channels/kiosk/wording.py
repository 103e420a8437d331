"""What the kiosk itself says to residents, in plain Japanese (やさしい日本語): one instruction per message."""

from __future__ import annotations

# The opening, shown and spoken one message at a time; short, because every line is heard in full.
OPENING = (
    "こんにちは。マイナンバーカードの手続きを、ご案内します。",
    "「話す」ボタンを押して、こまっていることを話してください。",
    "下のボタンを押して、えらぶこともできます。",
)

# What the page says by itself (shown on its status line and spoken), handed to it as data-words.
PAGE = {
    "ask": "続けますか？続けるときは、「続ける」を押してください。",
    "micRefused": "マイクが使えません。下のボタンを押して、えらんでください。",
    "noVoiceInput": "この機械では、声で話せません。下のボタンを押して、えらんでください。",
    "notHeard": "声が聞こえませんでした。もう一度「話す」を押して、話してください。",
    "listening": "どうぞ、話してください。",
    "stopRecording": "話しおわったら、もう一度押してください。",
    "offline": "いまは、つながっていません。少し待ってください。",
    "noCard": "まだ手続きがえらばれていません。先に、手続きをえらんでください。",
}

# The speech endpoint's refusals: for the page's log and for an operator reading the hub's answers.
SPEECH_EMPTY = "読み上げる文字がありません。"
SPEECH_NO_VOICE = "いまは声を出せません。画面の文字を読んでください。"


def speech_too_long(max_chars: int) -> str:
    """The refusal of text longer than one message."""
    return f"文字が長すぎます。{max_chars}文字までです。"
