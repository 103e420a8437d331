"""What the LINE channel itself says to residents, in plain Japanese (the assistant's answers come from the core)."""

from __future__ import annotations

from bot.hub.messages import BotMessage

# After a resident adds the account as a friend: how to start, then the privacy note, one instruction each.
GREETING = (
    BotMessage("友だち追加ありがとうございます。マイナンバーカードやマイナポータルの手続きを、ごあんないします。"),
    BotMessage("下のメニューの「手続きをはじめる」を押してください。知りたいことを書いて送ることもできます。"),
    BotMessage("マイナンバーや暗証番号は、ここに書かないでください。"),
)
# The rich menu's 「使い方」.
HOW_TO_USE = (
    BotMessage("知りたいことを、短い文で送ってください。たとえば「カードを作りたい」です。"),
    BotMessage("ボタンが出たときは、ボタンを押して答えてください。"),
    BotMessage("人と話したいときは、メニューの「人と話す」を押してください。"),
    BotMessage("マイナンバーや暗証番号は、ここに書かないでください。"),
)
# Stickers, pictures, videos, voice, files and places cannot be read by the assistant.
NOT_TEXT = {
    "sticker": "スタンプありがとうございます。",
    "image": "写真は見ることができません。",
    "video": "動画は見ることができません。",
    "audio": "音声は聞くことができません。",
    "file": "ファイルは開くことができません。",
    "location": "位置情報は使うことができません。",
}
ASK_FOR_TEXT = "知りたいことを、文字で送ってください。"
# In a group or a room: the assistant talks with one resident at a time, about their own procedures.
ONE_TO_ONE = (
    BotMessage("このサービスは、1人ずつのトークで使います。"),
    BotMessage("グループではなく、このアカウントと1対1のトークで話しかけてください。"),
)


def not_text_answer(kind: str) -> list[BotMessage]:
    """The polite answer to a sticker, picture, video, voice message, file or place."""
    return [BotMessage(NOT_TEXT.get(kind, "そのメッセージは読むことができません。")), BotMessage(ASK_FOR_TEXT)]
