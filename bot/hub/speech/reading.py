"""A message as a voice should say it: letters and symbols as residents say them, numbers read usefully, no URLs.

Screen text is written for the eye: "NFC", "iPhone", "6:30", "0120-95-0178", a link. A voice reading those
literally spells letters the wrong way, says "six colon thirty" or a large number, and reads a URL character
by character. `for_the_ear` rewrites them in katakana and kanji that both voices pronounce as residents do.
"""

from __future__ import annotations

import re
import unicodedata

# Words from the procedures and answers, as residents say them; matched whole and case-insensitively.
WORDS = {
    "android": "アンドロイド",
    "app": "アプリ",
    "e-tax": "イータックス",
    "faq": "よくある質問",
    "gps": "ジーピーエス",
    "id": "アイディー",
    "ipad": "アイパッド",
    "iphone": "アイフォーン",
    "j-lis": "ジェイリス",
    "line": "ライン",
    "mynumber": "マイナンバー",
    "nfc": "エヌエフシー",
    "ok": "オーケー",
    "pdf": "ピーディーエフ",
    "pin": "暗証番号",
    "sms": "エスエムエス",
    "wi-fi": "ワイファイ",
    "wifi": "ワイファイ",
}
LETTERS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "エー ビー シー ディー イー エフ ジー エイチ アイ ジェー ケー エル エム エヌ オー ピー キュー アール エス"
        " ティー ユー ブイ ダブリュー エックス ワイ ゼット".split(),
        strict=True,
    )
)
DIGITS = dict(zip("0123456789", "ゼロ イチ ニー サン ヨン ゴー ロク ナナ ハチ キュー".split(), strict=True))
SYMBOLS = {"〜": "から", "~": "から", "%": "パーセント", "&": "アンド", "+": "プラス", "※": "", "→": "、", "＊": ""}

_URL = re.compile(r"(?:https?://|www\.)[\w\-.~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
# A link the sentence goes on about (「… を見てください」) is said as where it is; a link alone is left out.
_URL_IN_SENTENCE = re.compile(_URL.pattern + r"\s*(?=[をにでへのから])", re.IGNORECASE)
ON_THE_SCREEN = "画面のアドレス"
# A telephone number: groups of digits joined by hyphens, starting with 0 (0120-95-0178, 03-1234-5678).
_PHONE = re.compile(r"(?<![\d-])0\d{1,4}(?:-\d{1,4}){1,2}(?![\d-])")
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*[A-Za-z]|[A-Za-z]")
_SPACES = re.compile(r"[ \t]+")


def for_the_ear(text: str) -> str:
    """The text as a voice should say it; "" when nothing is left to say (a bare link)."""
    text = unicodedata.normalize("NFKC", text)
    text = _URL_IN_SENTENCE.sub(ON_THE_SCREEN, text)
    text = _URL.sub("", text)
    text = _PHONE.sub(lambda m: _digit_by_digit(m.group()), text)
    text = _TIME.sub(_time, text)
    text = _LATIN_WORD.sub(lambda m: _word(m.group()), text)
    for symbol, said in SYMBOLS.items():
        text = text.replace(symbol, said)
    return _SPACES.sub(" ", text).strip()


def _digit_by_digit(number: str) -> str:
    groups = number.split("-")
    return "、".join("".join(DIGITS[d] for d in group) for group in groups) + "、"


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    return f"{hour}時" + (f"{minute}分" if minute else "")


def _word(word: str) -> str:
    said = WORDS.get(word.lower())
    if said is not None:
        return said
    if word.isupper() and len(word) <= 5 and "-" not in word:
        # An abbreviation (QR, IC, PC): residents spell it out.
        return "".join(LETTERS[letter] for letter in word)
    return word
