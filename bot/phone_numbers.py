"""Japanese phone numbers as residents type them: read one for a callback, or hide them from volunteers.

Shapes: 090-1234-5678, 03(1234)5678, 0312345678, +81 90 1234 5678, full-width digits, spaces or long-vowel
marks as hyphens. A phone number is not a personal number in the sense of `bot.privacy` (it is kept for a
callback, and only staff see it), but it is never shown to volunteers.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = "[0-9０-９]"
# Between groups: hyphens of every width, spaces, brackets, and 「の」 as residents say it (090の1234の5678).
_GAP = "[-\\s()（）ー－−‐の]?"
_PHONE = re.compile(
    rf"(?<!{_DIGITS})(?:\+81[-\s]?|[0０]){_DIGITS}{{1,4}}{_GAP}{_DIGITS}{{1,4}}{_GAP}{_DIGITS}{{3,4}}(?!{_DIGITS})"
)
_SEPARATORS = re.compile("[-\\s()（）ー－−‐の]")
# A Japanese number is 10 digits (landlines, 0120) or 11 (mobiles, 050), counting the leading 0.
PHONE_DIGITS = (10, 11)
PHONE_HIDDEN = "［電話番号］"


def hide_phone_numbers(text: str) -> str:
    """The text with every phone number replaced by a marker."""
    return _PHONE.sub(PHONE_HIDDEN, text)


def read_phone_number(text: str) -> str | None:
    """The one phone number in a resident's message, as digits only (09012345678), or None when there is none
    or more than one (the resident is asked again rather than called on a guess)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    found = [_SEPARATORS.sub("", match.group(0)) for match in _PHONE.finditer(folded)]
    if len(found) != 1:
        return None
    number = found[0]
    if number.startswith("+81"):
        number = "0" + number[3:]
    return number if len(number) in PHONE_DIGITS and number.isdigit() else None


def last_digits(number: str, count: int = 4) -> str:
    """The end of a number, to confirm it without repeating it whole."""
    return number[-count:]
