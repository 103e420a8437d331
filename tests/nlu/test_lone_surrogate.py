"""A message with a lone surrogate (a broken emoji) is tokenised instead of failing the turn."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalize import normalize
from bot.nlu.sudachi_tokenizer import SudachiTokenizer


@pytest.mark.parametrize("text", ["\ud800", "カード\udc00をなくしました", "\ud83dです"])
def test_lone_surrogates_become_replacement_characters(text: str) -> None:
    normalized = normalize(text)
    assert "\ufffd" in normalized.text
    normalized.text.encode("utf-8")
    assert len(normalized.origins) == len(normalized.text)


def test_the_tokenizer_reads_a_message_with_a_lone_surrogate() -> None:
    tokenizer = SudachiTokenizer.create(
        {**SudachiTokenizer.get_default_config(), "split_mode": "B", "dictionary": "core"}, None, None, None
    )
    tokens = tokenizer.tokenize(Message(data={"text": "カード\ud800をなくしました"}), "text")
    assert [token.text for token in tokens if "カード" in token.text]
