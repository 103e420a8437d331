"""Readings over kanji from Sudachi: exact text kept, readings only over kanji, 送り仮名 left bare."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.hub.furigana import Furigana, align, hiragana


@pytest.fixture(scope="module")
def furigana() -> Furigana:
    return Furigana.load()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("暗証番号を忘れました", [("暗証番号", "あんしょうばんごう"), ("を", ""), ("忘", "わす"), ("れました", "")]),
        ("引っ越しの手続き", [("引", "ひ"), ("っ", ""), ("越", "こ"), ("しの", ""), ("手続", "てつづ"), ("き", "")]),
        ("市役所の窓口へ", [("市役所", "しやくしょ"), ("の", ""), ("窓口", "まどぐち"), ("へ", "")]),
        ("4桁の数字", [("4", ""), ("桁", "けた"), ("の", ""), ("数字", "すうじ")]),
        ("マイナポータルにログイン", [("マイナポータルにログイン", "")]),
        ("iPhoneで読み取ります", [("iPhoneで", ""), ("読", "よ"), ("み", ""), ("取", "と"), ("ります", "")]),
    ],
)
def test_readings_sit_over_kanji_only(furigana: Furigana, text: str, expected: list[tuple[str, str]]) -> None:
    assert furigana.segments(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "こんにちは。マイナンバーカードの手続きを、ご案内します。",
        "お急ぎのときは、窓口にお電話ください。\n・市民課\n・電話：0120-000-000\n\n",
        '<img src="x" onerror="alert(1)">暗証番号',
        "署名用電子証明書のパスワード（6〜16桁）😀",
        "",
    ],
)
def test_the_bases_give_back_the_text_exactly(furigana: Furigana, text: str) -> None:
    segments = furigana.segments(text)
    assert "".join(base for base, _ in segments) == text
    for base, reading in segments:
        assert reading == "" or (reading == hiragana(reading) and base)


def test_kana_inside_a_word_is_matched_or_the_whole_word_gets_the_reading() -> None:
    assert align("申し込み", "モウシコミ") == [("申", "もう"), ("し", ""), ("込", "こ"), ("み", "")]
    # A reading that does not hold the word's kana as written (a dictionary quirk) still goes over the whole word.
    assert align("取扱い", "トリアツカイ") == [("取扱", "とりあつか"), ("い", "")]
    assert align("ヶ月", "カゲツ") == [("ヶ月", "かげつ")]


def test_the_dictionary_is_not_loaded_when_the_module_is_imported() -> None:
    code = "import sys, bot.hub.furigana; print('sudachipy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
