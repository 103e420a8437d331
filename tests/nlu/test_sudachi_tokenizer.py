"""The Sudachi tokenizer: offsets, shared lemmas and readings, and hostile input."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalize import normalize, to_katakana
from bot.nlu.sudachi_tokenizer import READING, SudachiConfigError, SudachiTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> SudachiTokenizer:
    return SudachiTokenizer(SudachiTokenizer.get_default_config())


def tokens(tokenizer: SudachiTokenizer, text: str) -> list:
    message = Message.build(text=text)
    tokenizer.process([message])
    return message.get(TOKENS_NAMES[TEXT])


@pytest.mark.parametrize(
    "text",
    [
        "マイナポータルにログインできません。",
        "  暗証番号を忘れてしもうたんやけど  ",
        "ｉＰｈｏｎｅでマイナンバーカードを読み取りたい",
        "ﾏｲﾅﾎﾟｰﾀﾙ ﾛｸﾞｲﾝ",
        "すごーーーーいむずかしいです",
        "引っ越しの手続き　転出届はどうすれば？",
    ],
)
def test_offsets_point_at_the_text_as_written(tokenizer: SudachiTokenizer, text: str) -> None:
    found = tokens(tokenizer, text)
    assert found
    for token in found:
        assert text[token.start : token.end] == token.text
    starts = [token.start for token in found]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("first", "second"),
    [("引越しの手続き", "引っ越しの手続き"), ("問合せ先", "問い合わせ先"), ("ｶｰﾄﾞ", "カード")],
)
def test_spelling_variants_share_a_lemma(tokenizer: SudachiTokenizer, first: str, second: str) -> None:
    assert tokens(tokenizer, first)[0].lemma == tokens(tokenizer, second)[0].lemma


@pytest.mark.parametrize(
    ("kana", "kanji"),
    [("まいなぽーたる", "マイナポータル"), ("あんしょうばんごう", "暗証番号"), ("ひっこし", "引っ越し")],
)
def test_kana_and_kanji_share_a_reading(tokenizer: SudachiTokenizer, kana: str, kanji: str) -> None:
    def reading(text: str) -> str:
        return "".join(token.get(READING) for token in tokens(tokenizer, text))

    assert reading(kana) == reading(kanji)


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "！？。、", "あ" * 10_000, "暗証番号を忘れました。" * 1_000])
def test_hostile_input_does_not_crash(tokenizer: SudachiTokenizer, text: str) -> None:
    found = tokens(tokenizer, text)
    for token in found:
        assert text[token.start : token.end] == token.text


def test_long_text_is_tokenized_to_the_end(tokenizer: SudachiTokenizer) -> None:
    text = "暗証番号を忘れました。" * 1_000
    assert tokens(tokenizer, text)[-1].end >= len(text) - 1


def test_normalize_folds_width_and_long_vowels() -> None:
    assert normalize("  ＡＢＣ１２３ ").text == "ABC123"
    assert normalize("すごーーーい").text == "すごーい"
    assert normalize("ﾊﾞｽ").text == "バス"
    assert to_katakana("まいなぽーたる") == "マイナポータル"


@pytest.mark.parametrize("config", [{"split_mode": "D"}, {"dictionary": "huge"}])
def test_bad_settings_name_the_field(config: dict) -> None:
    with pytest.raises(SudachiConfigError, match=r"config\.yml"):
        SudachiTokenizer({**SudachiTokenizer.get_default_config(), **config})
