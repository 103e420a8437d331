"""The blender: DIET's ranking and the n-gram regression's, mixed by weight, kept across saving and loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.char_ngram_blender import SOURCES, BlenderConfigError, CharNgramBlender
from bot.nlu.sudachi_tokenizer import SudachiTokenizer

EXAMPLES = {
    "pin_forgot": ["暗証番号を忘れた", "暗証番号がわからない", "パスワードを忘れました", "暗証番号のロック"],
    "card_lost": ["カードをなくした", "カードを落とした", "カードが見つからない", "カードを紛失しました"],
    "out_of_scope": ["ごみの出し方", "粗大ごみの日", "住民税はいくら", "犬の登録"],
}


@pytest.fixture(scope="module")
def tokenizer() -> SudachiTokenizer:
    return SudachiTokenizer(SudachiTokenizer.get_default_config())


def _blender(tmp_path: Path, **config: Any) -> tuple[CharNgramBlender, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("blender")
    context = ExecutionContext(GraphSchema({}), "test")
    full = {**CharNgramBlender.get_default_config(), **config}
    return CharNgramBlender.create(full, storage, resource, context), storage, resource


def _trained(tmp_path: Path, tokenizer: SudachiTokenizer, **config: Any) -> CharNgramBlender:
    blender, _, _ = _blender(tmp_path, **config)
    examples = [Message.build(text=text, intent=intent) for intent, texts in EXAMPLES.items() for text in texts]
    tokenizer.process_training_data(TrainingData(examples))
    blender.train(TrainingData(examples))
    return blender


def _parsed(tokenizer: SudachiTokenizer, text: str, diet: dict[str, float]) -> Message:
    """A message as DIET leaves it: tokens, the intent and the ranking."""
    message = Message.build(text=text)
    tokenizer.process([message])
    ranking = [{"name": name, "confidence": conf} for name, conf in sorted(diet.items(), key=lambda i: -i[1])]
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    return message


def test_weight_one_keeps_diets_choice(tmp_path: Path, tokenizer: SudachiTokenizer) -> None:
    blender = _trained(tmp_path, tokenizer, weight=1.0)
    message = _parsed(tokenizer, "暗証番号を忘れてしまいました", {"card_lost": 0.9, "pin_forgot": 0.1})
    blender.process([message])
    assert message.get(INTENT)["name"] == "card_lost"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.9)


def test_the_regression_outvotes_an_unsure_diet(tmp_path: Path, tokenizer: SudachiTokenizer) -> None:
    blender = _trained(tmp_path, tokenizer, weight=0.4)
    message = _parsed(tokenizer, "暗証番号を忘れてしまいました", {"card_lost": 0.5, "pin_forgot": 0.45})
    blender.process([message])
    assert message.get(INTENT)["name"] == "pin_forgot"
    ranking = message.get(INTENT_RANKING_KEY)
    assert [item["confidence"] for item in ranking] == sorted((item["confidence"] for item in ranking), reverse=True)
    assert set(message.get(SOURCES)) == {"diet", "char_ngram"}
    assert message.as_dict(only_output_properties=True)[SOURCES]["diet"]["card_lost"] == pytest.approx(0.5)


def test_kana_meets_the_word_by_its_reading(tmp_path: Path, tokenizer: SudachiTokenizer) -> None:
    blender = _trained(tmp_path, tokenizer, weight=0.0)
    # Typed in kana, 暗証 shares no character with the examples; its reading アンショウ is the same.
    message = _parsed(tokenizer, "あんしょう", {"card_lost": 1.0})
    blender.process([message])
    assert message.get(INTENT)["name"] == "pin_forgot"


def test_saved_and_loaded_it_blends_the_same(tmp_path: Path, tokenizer: SudachiTokenizer) -> None:
    blender, storage, resource = _blender(tmp_path, weight=0.3)
    examples = [Message.build(text=text, intent=intent) for intent, texts in EXAMPLES.items() for text in texts]
    tokenizer.process_training_data(TrainingData(examples))
    blender.train(TrainingData(examples))
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = CharNgramBlender.load(blender._config, storage, resource, context)
    first = _parsed(tokenizer, "粗大ごみを出したい", {"card_lost": 0.6, "out_of_scope": 0.4})
    second = _parsed(tokenizer, "粗大ごみを出したい", {"card_lost": 0.6, "out_of_scope": 0.4})
    blender.process([first])
    loaded.process([second])
    assert first.get(INTENT_RANKING_KEY) == second.get(INTENT_RANKING_KEY)
    assert first.get(INTENT)["name"] == "out_of_scope"


def test_a_message_without_a_ranking_or_text_is_left_alone(tmp_path: Path, tokenizer: SudachiTokenizer) -> None:
    blender = _trained(tmp_path, tokenizer)
    bare = Message.build(text="カードをなくした")
    empty = Message(data={TEXT: ""})
    blender.process([bare, empty])
    assert bare.get(INTENT) is None
    assert empty.get(INTENT_RANKING_KEY) is None


@pytest.mark.parametrize("weight", [-0.1, 1.5, "half"])
def test_a_weight_outside_zero_to_one_is_refused(tmp_path: Path, weight: Any) -> None:
    with pytest.raises(BlenderConfigError, match="weight must be a number from 0 to 1"):
        _blender(tmp_path, weight=weight)
