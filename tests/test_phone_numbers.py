"""Reading a phone number a resident typed for a callback, and hiding numbers from volunteers."""

from __future__ import annotations

import pytest

from bot.phone_numbers import PHONE_HIDDEN, hide_phone_numbers, last_digits, read_phone_number


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("090-1234-5678", "09012345678"),
        ("09012345678です", "09012345678"),
        ("電話は０９０ー１２３４ー５６７８にお願いします", "09012345678"),
        ("03(1234)5678", "0312345678"),
        ("０９０の１２３４の５６７８", "09012345678"),
        ("0463 12 3456", "0463123456"),
        ("+81 90 1234 5678", "09012345678"),
        ("自宅の 045-123-4567 です。昼間はいます", "0451234567"),
    ],
)
def test_a_phone_number_is_read_as_digits(typed: str, number: str) -> None:
    assert read_phone_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    [
        "1234",  # a PIN, not a phone number
        "123456789012",  # a My Number's length
        "090-1234",  # cut short
        "電話してください",
        "090-1234-5678 か 03-1234-5678",  # two numbers: ask again rather than guess
        "0901234567890",
    ],
)
def test_anything_else_is_not_taken_as_a_number(typed: str) -> None:
    assert read_phone_number(typed) is None


def test_numbers_are_hidden_and_confirmed_by_their_end() -> None:
    assert hide_phone_numbers("折り返しは090-1234-5678へ") == f"折り返しは{PHONE_HIDDEN}へ"
    assert last_digits("09012345678") == "5678"
